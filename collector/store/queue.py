"""The console's ticket queue: what still needs work, by priority then age, a page at a time.

The order is (priority, created_at, id), the columns of the partial index `ix_tickets_queue`
(active, unattached tickets), so a page is an index range read from a cursor -- the last row
of the previous page -- whatever the queue's depth: no OFFSET, which would read and drop every
earlier row. Each row carries what the queue shows beside the ticket: its escalation (steps
fired, who was paged, the team) and, for a host-down ticket, how many alerts are attached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.ticket import ACTIVE_STATUSES, Priority, Source, Status
from collector.store.escalations import ESCALATIONS
from collector.store.ticket_rows import IS_ACTIVE, TICKETS
from collector.store.tickets import Ticket

MAX_CHILDREN = 20    # attached alerts shown under a host-down ticket; the count says the rest

_COLUMNS = tuple(column for column in TICKETS.c if column.name != "details")


@dataclass(frozen=True, slots=True, kw_only=True)
class Cursor:
    """Where a page ends: the last row's place in the order."""

    priority: Priority
    created_at: datetime
    id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueFilter:
    """Which active tickets the queue lists; empty tuples and None mean "any"."""

    status: tuple[Status, ...] = ()          # within open and acknowledged
    priority: tuple[Priority, ...] = ()
    source: Source | None = None
    host: str | None = None
    service: str | None = None
    component: str | None = None
    team: str | None = None
    assignee: str | None = None             # "mine": the person's own tickets
    after: Cursor | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueRow:
    ticket: Ticket
    escalation_state: str | None      # running, acknowledged, done; None: no escalation
    steps_fired: int
    team: str | None
    paged: tuple[str, ...]            # who was notified so far, in order
    attached: int                     # alerts attached to this (host-down) ticket
    children: tuple[Ticket, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuePage:
    rows: list[QueueRow]
    next: Cursor | None               # None: this is the last page
    counts: dict[Priority, int]       # the whole queue (this filter but any priority)


def _where(search: QueueFilter, *, with_priority: bool = True) -> list[Any]:
    statuses = tuple(s for s in (search.status or ACTIVE_STATUSES) if s in ACTIVE_STATUSES)
    # The index's predicate, written out as the index says it (not with bound parameters),
    # so that SQLite and PostgreSQL's generic plans can prove the query implies it.
    terms: list[Any] = [IS_ACTIVE, TICKETS.c.parent_id.is_(None)]
    if set(statuses) != set(ACTIVE_STATUSES):
        terms.append(TICKETS.c.status.in_(statuses or ("none",)))
    if with_priority and search.priority:
        terms.append(TICKETS.c.priority.in_(search.priority))
    for column, value in (("source", search.source), ("host", search.host),
                          ("service", search.service), ("component", search.component),
                          ("assignee", search.assignee)):
        if value is not None:
            terms.append(TICKETS.c[column] == value)
    if search.team is not None:
        terms.append(TICKETS.c.id.in_(select(ESCALATIONS.c.ticket_id)
                                      .where(ESCALATIONS.c.team == search.team)))
    return terms


def _after(cursor: Cursor) -> Any:
    """Rows after the cursor in the queue's order, as a row-value comparison: one range of
    the index on SQLite and PostgreSQL alike."""
    order = (TICKETS.c.priority, TICKETS.c.created_at, TICKETS.c.id)
    values = (cursor.priority, cursor.created_at, cursor.id)
    return tuple_(*order) > tuple_(*(literal(value, column.type)
                                     for column, value in zip(order, values, strict=True)))


async def queue_page(engine: AsyncEngine, search: QueueFilter) -> QueuePage:
    if search.limit < 1:
        raise ValueError(f"limit must be at least 1, not {search.limit}")
    query = select(*_COLUMNS).where(*_where(search))
    if search.after is not None:
        query = query.where(_after(search.after))
    query = (query.order_by(TICKETS.c.priority, TICKETS.c.created_at, TICKETS.c.id)
             .limit(search.limit + 1))
    counts_query = (select(TICKETS.c.priority, func.count())
                    .where(*_where(search, with_priority=False))
                    .group_by(TICKETS.c.priority))
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
        more = len(rows) > search.limit
        rows = rows[:search.limit]
        counts = {priority: count for priority, count
                  in (await connection.execute(counts_query)).all()}
        ids = [row.id for row in rows]
        escalations = {row.ticket_id: row for row in (await connection.execute(
            select(ESCALATIONS.c.ticket_id, ESCALATIONS.c.state, ESCALATIONS.c.next_step,
                   ESCALATIONS.c.team, ESCALATIONS.c.notified)
            .where(ESCALATIONS.c.ticket_id.in_(ids)))).all()} if ids else {}
        parents = [row.id for row in rows if row.host_down]
        attached = await _attached(connection, parents)
    tickets = [Ticket(**row._mapping, details={}) for row in rows]
    out = []
    for ticket in tickets:
        escalation = escalations.get(ticket.id)
        count, children = attached.get(ticket.id, (0, ()))
        out.append(QueueRow(
            ticket=ticket,
            escalation_state=escalation.state if escalation else None,
            steps_fired=escalation.next_step if escalation else 0,
            team=escalation.team if escalation else None,
            paged=tuple(_people(escalation.notified)) if escalation else (),
            attached=count, children=children))
    last = tickets[-1] if tickets and more else None
    cursor = (Cursor(priority=last.priority, created_at=last.created_at, id=last.id)
              if last else None)
    return QueuePage(rows=out, next=cursor,
                     counts={p: counts.get(p, 0) for p in Priority})


def _people(notified: Sequence[Any] | None) -> list[str]:
    seen: list[str] = []
    for entry in notified or ():
        person = entry[0] if isinstance(entry, list | tuple) and entry else None
        if isinstance(person, str) and person not in seen:
            seen.append(person)
    return seen


async def _attached(connection, parents: list[int]) -> dict[int, tuple[int, tuple[Ticket, ...]]]:
    if not parents:
        return {}
    counts = dict((await connection.execute(
        select(TICKETS.c.parent_id, func.count()).where(TICKETS.c.parent_id.in_(parents))
        .group_by(TICKETS.c.parent_id))).all())
    out: dict[int, tuple[int, tuple[Ticket, ...]]] = {}
    for parent in parents:
        if not counts.get(parent):
            continue
        rows = (await connection.execute(
            select(*_COLUMNS).where(TICKETS.c.parent_id == parent)
            .order_by(TICKETS.c.id).limit(MAX_CHILDREN))).all()
        out[parent] = (counts[parent], tuple(Ticket(**row._mapping, details={})
                                             for row in rows))
    return out


async def newest_active_id(engine: AsyncEngine) -> int:
    """The largest id among active, unattached tickets (0 when none): what the live queue
    compares with to know something new arrived."""
    query = select(func.max(TICKETS.c.id)).where(IS_ACTIVE, TICKETS.c.parent_id.is_(None))
    async with engine.connect() as connection:
        return (await connection.execute(query)).scalar() or 0
