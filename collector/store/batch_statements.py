"""The statements an ingested batch runs (collector/store/signal_batch.py): its reads of the
tickets table, pinned to narrow indexes on both backends, and its bulk writes, built once per
dialect."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    Column,
    ColumnElement,
    Insert,
    Integer,
    Select,
    Text,
    TextClause,
    Update,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    text,
    update,
)

from alerting.inhibition import InhibitRule
from collector.store.conflict import insert_or_skip
from collector.store.escalations import ESCALATIONS
from collector.store.inhibitors import may_inhibit
from collector.store.models import ACTIVE_PREDICATE, HOST_DOWN_PREDICATE
from collector.store.recordset import json_rows
from collector.store.ticket_rows import EVENTS, IS_ACTIVE, TICKETS

# Columns the batch reads for an existing ticket (all it may change or report).
ENTRY_COLUMNS = (TICKETS.c.id, TICKETS.c.dedup_key, TICKETS.c.status, TICKETS.c.priority,
                 TICKETS.c.component, TICKETS.c.host, TICKETS.c.created_at,
                 TICKETS.c.occurrences, TICKETS.c.last_seen, TICKETS.c.recovery,
                 TICKETS.c.recovered_at, TICKETS.c.acknowledged_at, TICKETS.c.resolved_at)
# ... and for a ticket that may inhibit others or be released: what inhibit rules match on.
INHIBITION_COLUMNS = (*ENTRY_COLUMNS, TICKETS.c.host_down, TICKETS.c.service,
                      TICKETS.c.details, TICKETS.c.parent_id)


# The bulk statements, built once per dialect (SQLAlchemy then finds them in its cache):
# from a JSON record set on PostgreSQL, with bound parameters per row on SQLite.

@functools.cache
def update_statement(dialect: str, columns: tuple[str, ...]) -> Update:
    if dialect != "postgresql":
        return update(TICKETS).where(TICKETS.c.id == bindparam("id_"))
    rows = json_rows([("id_", TICKETS.c.id.type),
                      *((name, TICKETS.c[name].type) for name in columns)]).subquery("v")
    return (update(TICKETS).where(TICKETS.c.id == rows.c.id_)
            .values({name: rows.c[name] for name in columns}))


@functools.cache
def open_statement(dialect: str) -> Insert:
    statement = insert_or_skip(dialect, TICKETS, index_elements=["dedup_key"],
                               index_where=IS_ACTIVE)
    if dialect == "postgresql":
        columns = [c for c in TICKETS.c if c.name != "id"]
        statement = statement.from_select([c.name for c in columns],
                                          json_rows([(c.name, c.type) for c in columns]))
    return statement.returning(TICKETS.c.id, TICKETS.c.dedup_key)


@functools.cache
def events_statement(dialect: str) -> Insert:
    if dialect != "postgresql":
        return insert(EVENTS)
    columns = [c for c in EVENTS.c if c.name != "id"]
    return insert(EVENTS).from_select([c.name for c in columns],
                                      json_rows([(c.name, c.type) for c in columns]))


EVENTS_PARAMETER = "events"


@functools.cache
def open_with_events_statement() -> Select[Any]:
    """PostgreSQL: `open_statement` and `events_statement` in one, returning (id, key) of
    the tickets opened. An event of a ticket opened here has `ticket_key` instead of
    `ticket_id`; an "attached" event whose child opened here has `attached_key`, whose id goes
    into its data as `ticket_id`. Events whose ticket was not inserted (its key was taken:
    the batch is rolled back and applied again) are left out, not failed on. Rows go in in
    the order given (`n`), so the timeline's ids keep the order things happened in."""
    opened = open_statement("postgresql").cte("opened")
    columns = [c for c in EVENTS.c if c.name != "id"]
    e = json_rows([*((c.name, c.type) for c in columns), ("n", Integer()),
                   ("ticket_key", Text()), ("attached_key", Text())],
                  parameter=EVENTS_PARAMETER).subquery("e")
    ticket, child = opened.alias("t"), opened.alias("a")
    data = case((e.c.attached_key.is_(None), e.c.data),
                else_=e.c.data.op("||")(func.jsonb_build_object("ticket_id", child.c.id)))
    rows = (select(func.coalesce(e.c.ticket_id, ticket.c.id), e.c.at, e.c.kind, e.c.actor,
                   e.c.message, data)
            .select_from(e.outerjoin(ticket, ticket.c.dedup_key == e.c.ticket_key)
                         .outerjoin(child, child.c.dedup_key == e.c.attached_key))
            .where(or_(e.c.ticket_id.is_not(None), ticket.c.id.is_not(None)))
            .order_by(e.c.n))
    timeline = insert(EVENTS).from_select([c.name for c in columns], rows).cte("timeline")
    return select(opened.c.id, opened.c.dedup_key).add_cte(timeline)


@functools.cache
def escalations_statement(dialect: str) -> Insert:
    if dialect != "postgresql":
        return insert(ESCALATIONS)
    columns = list(ESCALATIONS.c)
    return insert(ESCALATIONS).from_select([c.name for c in columns],
                                           json_rows([(c.name, c.type) for c in columns]))


def sqlite_indexed(index: str, where: str, values: Sequence[str] | Sequence[int],
                    columns: Sequence[Column[Any]] = ENTRY_COLUMNS) -> TextClause:
    """SQLite only: `columns` (the entry columns) of the tickets in `where`, read through
    `index`.

    SQLite keeps no statistics unless ANALYZE runs, and without them its planner walks
    ix_tickets_status_id, that is every open ticket, for these lookups (bench/ingest.py: 8 ms
    instead of 0.5 ms per batch at 12k open tickets). INDEXED BY pins the index; SQLAlchemy's
    SQLite compiler has no hint for it, hence text.
    """
    names = ", ".join(column.name for column in columns)
    # Index, columns and predicate are this module's constants; values are bound parameters.
    sql = f"SELECT {names} FROM tickets INDEXED BY {index} WHERE {where} ORDER BY id"  # noqa: S608
    return (text(sql)
            .bindparams(bindparam("values", value=list(values), expanding=True))
            .columns(*columns))


# PostgreSQL: the same two lookups, as one index probe per key (or host) in a LATERAL
# subquery. Written as `dedup_key IN (...) AND status IN (...)`, the planner of a table that
# has no statistics yet (a new deployment, or an alert storm growing the table faster than
# autovacuum analyses it) prices `status IN (...)` at 1% of the rows and `parent_id IS NULL`
# at 0.5%, and reads every active ticket through ix_tickets_status_id (or ix_tickets_parent_id)
# to filter them against the list: bench/ingest.py (postgresql x2, fresh database) spent 2.0 of
# 5.1 s in that scan with 25k open tickets, growing with every ticket opened. A subquery with
# LIMIT (or OFFSET 0) is not pulled up, so each probe is planned alone: an equality on the
# unique partial index (one row), which wins at any statistics. The keys come as one array
# parameter, so the statement text is the same for every batch (one prepared statement per
# connection instead of one per IN-list length).
#
# Rows are locked FOR NO KEY UPDATE in key order (the keys are sorted), one total order
# across collectors as the id order was, so two batches' reads do not lock each other in a
# cycle. At most one active ticket per key (the unique index), hence LIMIT 1; a ticket that
# another transaction resolved while this one waited for its lock fails the re-checked
# predicate and is skipped, as before.

@functools.cache
def pg_active_by_key() -> TextClause:
    names = ", ".join(column.name for column in ENTRY_COLUMNS)
    sql = (f"SELECT t.* FROM unnest(CAST(:keys AS text[])) AS k(key) "  # noqa: S608 (constants)
           f"CROSS JOIN LATERAL (SELECT {names} FROM tickets "
           f"WHERE dedup_key = k.key AND {ACTIVE_PREDICATE} "
           f"LIMIT 1 FOR NO KEY UPDATE OF tickets) AS t")
    return text(sql).bindparams(bindparam("keys", type_=ARRAY(Text))).columns(*ENTRY_COLUMNS)


@functools.cache
def hold_inhibitors_statement() -> TextClause:
    """PostgreSQL: the ids of these tickets that are still active, locked FOR SHARE (in id
    order, so two batches take them in one order)."""
    sql = (f"SELECT id FROM tickets WHERE id = ANY(CAST(:ids AS integer[])) "  # noqa: S608
           f"AND {ACTIVE_PREDICATE} ORDER BY id FOR SHARE")
    return text(sql).bindparams(bindparam("ids", type_=ARRAY(Integer)))


@functools.cache
def pg_host_down() -> TextClause:
    """Open host-down tickets (not attached) of the hosts, oldest first."""
    names = ", ".join(column.name for column in ENTRY_COLUMNS)
    sql = (f"SELECT t.* FROM unnest(CAST(:hosts AS text[])) AS h(host) "  # noqa: S608
           f"CROSS JOIN LATERAL (SELECT {names} FROM tickets "
           f"WHERE tickets.host = h.host AND {HOST_DOWN_PREDICATE['postgresql']} "
           f"OFFSET 0) AS t ORDER BY t.id")
    return text(sql).bindparams(bindparam("hosts", type_=ARRAY(Text))).columns(*ENTRY_COLUMNS)


@functools.cache
def pg_attached() -> TextClause:
    """Active tickets attached to the parents, oldest first: one ix_tickets_parent_id probe per
    parent (as `parent_id IN (...)`, a table without statistics was read through every active
    ticket)."""
    names = ", ".join(column.name for column in INHIBITION_COLUMNS)
    sql = (f"SELECT t.* FROM unnest(CAST(:parents AS integer[])) AS p(id) "  # noqa: S608
           f"CROSS JOIN LATERAL (SELECT {names} FROM tickets "
           f"WHERE tickets.parent_id = p.id AND {ACTIVE_PREDICATE} OFFSET 0) AS t ORDER BY t.id")
    return (text(sql).bindparams(bindparam("parents", type_=ARRAY(Integer)))
            .columns(*INHIBITION_COLUMNS))


@functools.cache
def may_inhibit_terms(rules: tuple[InhibitRule, ...]) -> tuple[ColumnElement[bool], ...]:
    """The inhibitor lookup's extra WHERE terms for `rules` (none when it cannot narrow)."""
    term = may_inhibit(rules)
    return () if term is None else (term,)
