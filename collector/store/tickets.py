"""The ticket queue in the database: monitoring signals in bulk, user reports, and what people
do to tickets, each change with a row in the ticket's timeline.

`apply_signals` takes a whole Alertmanager or Events API batch in one transaction with a
fixed number of statements, whatever the batch size; how, and how one active ticket per dedup
key holds across several collectors, is in collector/store/signal_batch.py. When the batch
raced another collector (a key opened meanwhile, a deadlock), the transaction is rolled back
and the batch applied again, up to `MAX_ATTEMPTS` times.

Lifecycle moves go through `alerting.lifecycle.transition`, on a row locked for the
transaction on PostgreSQL so concurrent acknowledgements are serialised.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alerting.inhibition import InhibitRule
from alerting.lifecycle import Event, transition
from alerting.priority import Assessment
from alerting.ticket import (
    ACTIVE_STATUSES,
    Criticality,
    Priority,
    Recovery,
    Signal,
    Source,
    Status,
    Urgency,
    UserReport,
)
from collector.store.engine import write_transaction
from collector.store.escalations import ESCALATIONS, EscalationPlan, poke
from collector.store.escalations import restart as restart_escalation
from collector.store.signal_batch import (
    Assess,
    InMaintenance,
    KeyTaken,
    Outcome,
    Result,
    SignalBatch,
)
from collector.store.sqlite_writer import ThreadConnection, run_to_end, sqlite_writer
from collector.store.ticket_rows import (
    EVENTS,
    IS_ACTIVE,
    TICKETS,
    created_event_row,
    event_row,
)

__all__ = [
    "Assess",
    "Outcome",
    "Result",
    "Ticket",
    "TicketFilter",
    "TicketNotFound",
    "TicketStore",
    "TimelineEntry",
]

log = logging.getLogger("regie.collector.store")

# A conflict means another collector opened one of this batch's tickets meanwhile; each retry
# finds more of them existing. Reaching this bound would take a storm of collectors opening,
# resolving and reopening the same keys at once.
MAX_ATTEMPTS = 20
# Keys per `IN (...)` list: under SQLite's and asyncpg's 32,767 bound parameters. Handed to
# each SignalBatch (rather than kept there) so it is read at each call.
IN_CHUNK = 10_000
# PostgreSQL errors after which the whole transaction may simply run again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


class TicketNotFound(LookupError):
    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"no ticket {ticket_id}")
        self.ticket_id = ticket_id



@dataclass(frozen=True, slots=True, kw_only=True)
class Ticket:
    id: int
    dedup_key: str | None
    status: Status
    priority: Priority
    impact: Criticality
    urgency: Urgency
    summary: str
    description: str
    host: str | None
    service: str | None
    component: str | None
    source: Source
    origin: str
    reporter: str | None
    assignee: str | None
    occurrences: int
    first_seen: datetime
    last_seen: datetime
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    recovered_at: datetime | None
    parent_id: int | None
    host_down: bool
    recovery: Recovery | None
    priority_override_reason: str | None
    details: dict[str, Any]
    # The maintenance window it fired in (window, name, start, end): its escalation was held.
    maintenance: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: str
    actor: str
    message: str
    data: dict[str, Any]



@dataclass(frozen=True, slots=True, kw_only=True)
class TicketFilter:
    """Which tickets `TicketStore.list` returns; empty tuples and None mean "any"."""

    status: tuple[Status, ...] = ()
    priority: tuple[Priority, ...] = ()
    host: str | None = None
    component: str | None = None
    source: Source | None = None
    include_attached: bool = False
    limit: int = 100
    before_id: int | None = None   # the cursor: tickets older (smaller id) than this one
    # False: `details` is not read (each ticket's is then {}): a page of 500 tickets would
    # otherwise carry up to 500 x 64 KiB of labels and custom details nobody asked for.
    with_details: bool = True


class TicketStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        # Set when on-call escalation is configured: each ticket that opens (and is not
        # attached to a host-down ticket) gets its escalation in the same transaction.
        self.escalation: EscalationPlan | None = None
        # The rules file's inhibit rules (alerting/inhibition.py): which active tickets hold
        # a new one back (host-down tickets always do).
        self.inhibit_rules: tuple[InhibitRule, ...] = ()
        # The maintenance windows (collector/maintenance.py): a ticket opened inside one is
        # marked and its escalation held until the window ends.
        self.maintenance: InMaintenance | None = None

    # -- monitoring signals ---------------------------------------------------------------

    async def apply_signals(self, signals: Sequence[Signal], *, now: datetime,
                            assess: Assess) -> list[Outcome]:
        """Apply a batch in order, in one transaction; one outcome per signal, in order.

        `assess(signal, systems_affected)` prices each ticket the batch opens. When the batch
        has to be applied again (it raced another collector), it is asked again: it must be
        free of side effects.
        """
        _require_aware(now, "now")
        for signal in signals:
            _require_aware(signal.occurred_at, f"occurred_at of {signal.dedup_key!r}")
        if not signals:
            return []
        reason = ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if attempt > 1:
                log.info("applying %d signals again (attempt %d): %s", len(signals), attempt,
                         reason)
            try:
                if self._dialect == "sqlite":
                    # The whole transaction in one hand-over to a thread (sqlite_writer.py).
                    return await sqlite_writer(self._engine).run(
                        lambda connection: run_to_end(self._batch(
                            ThreadConnection(connection), now, assess).apply(signals)))
                async with write_transaction(self._engine) as connection:
                    return await self._batch(connection, now, assess).apply(signals)
            except KeyTaken as taken:   # or InhibitorGone
                reason = taken.reason
            except DBAPIError as exc:
                if _sqlstate(exc) not in RETRYABLE_SQLSTATES:
                    raise
                reason = str(exc.orig)
        raise RuntimeError(f"gave up applying {len(signals)} signals after {MAX_ATTEMPTS} "
                           f"attempts: {reason}")

    def _batch(self, connection: AsyncConnection | ThreadConnection, now: datetime,
               assess: Assess) -> SignalBatch:
        return SignalBatch(connection, self._dialect, now, assess, self.escalation,
                           in_chunk=IN_CHUNK, inhibit_rules=self.inhibit_rules,
                           maintenance=self.maintenance)

    # -- user reports -----------------------------------------------------------------------

    async def create_user_ticket(self, report: UserReport, *, assessment: Assessment,
                                 now: datetime) -> Ticket:
        _require_aware(now, "now")
        values = {
            "dedup_key": None, "status": Status.OPEN, "priority": assessment.priority,
            "impact": assessment.impact, "urgency": assessment.urgency,
            "summary": report.summary, "description": report.description,
            "host": report.host, "service": report.service, "component": report.component,
            "source": Source.USER, "origin": "user", "reporter": report.reporter,
            "assignee": None, "occurrences": 1, "first_seen": now, "last_seen": now,
            "created_at": now, "updated_at": now, "acknowledged_at": None,
            "resolved_at": None, "closed_at": None, "recovered_at": None, "parent_id": None,
            "host_down": False, "recovery": None, "priority_override_reason": None,
            "details": {}, "maintenance": None,
        }
        async with write_transaction(self._engine) as connection:
            row = (await connection.execute(insert(TICKETS).values(values)
                                            .returning(*TICKETS.c))).one()
            await connection.execute(insert(EVENTS), [created_event_row(
                row.id, now, report.reporter, assessment, systems_affected=None)])
            if self.escalation is not None:
                await connection.execute(insert(ESCALATIONS), [self.escalation.row(
                    ticket_id=row.id, priority=row.priority, host=row.host,
                    service=row.service, component=row.component, now=now)])
        return _ticket(row)

    # -- reading ----------------------------------------------------------------------------

    async def get(self, ticket_id: int) -> Ticket | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(
                select(TICKETS).where(TICKETS.c.id == ticket_id))).first()
        return None if row is None else _ticket(row)

    async def list(self, filter: TicketFilter) -> list[Ticket]:
        """Newest first (by id); `before_id` continues after the last page's smallest id."""
        if filter.limit < 1:
            raise ValueError(f"limit must be at least 1, not {filter.limit}")
        query = select(TICKETS) if filter.with_details else select(
            *(column for column in TICKETS.c if column.name != "details"))
        if not filter.include_attached:
            query = query.where(TICKETS.c.parent_id.is_(None))
        if filter.status:
            query = query.where(TICKETS.c.status.in_(filter.status))
        if filter.priority:
            query = query.where(TICKETS.c.priority.in_(filter.priority))
        if filter.host is not None:
            query = query.where(TICKETS.c.host == filter.host)
        if filter.component is not None:
            query = query.where(TICKETS.c.component == filter.component)
        if filter.source is not None:
            query = query.where(TICKETS.c.source == filter.source)
        if filter.before_id is not None:
            query = query.where(TICKETS.c.id < filter.before_id)
        query = query.order_by(TICKETS.c.id.desc()).limit(filter.limit)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        if not filter.with_details:
            return [Ticket(**row._mapping, details={}) for row in rows]
        return [_ticket(row) for row in rows]

    async def timeline(self, ticket_id: int) -> list[TimelineEntry]:
        """The ticket's timeline, oldest first."""
        query = (select(EVENTS.c.at, EVENTS.c.kind, EVENTS.c.actor, EVENTS.c.message,
                        EVENTS.c.data)
                 .where(EVENTS.c.ticket_id == ticket_id).order_by(EVENTS.c.id))
        async with self._engine.connect() as connection:
            await _require_ticket(connection, ticket_id)
            rows = (await connection.execute(query)).all()
        return [TimelineEntry(*row) for row in rows]

    async def children(self, ticket_id: int) -> list[Ticket]:
        """The alerts attached to a (host-down) ticket, oldest first."""
        query = select(TICKETS).where(TICKETS.c.parent_id == ticket_id).order_by(TICKETS.c.id)
        async with self._engine.connect() as connection:
            await _require_ticket(connection, ticket_id)
            rows = (await connection.execute(query)).all()
        return [_ticket(row) for row in rows]

    async def open_counts(self) -> dict[tuple[Priority, Source], int]:
        """Active tickets by (priority, source), attached alerts left out."""
        query = (select(TICKETS.c.priority, TICKETS.c.source, func.count())
                 .where(IS_ACTIVE, TICKETS.c.parent_id.is_(None))
                 .group_by(TICKETS.c.priority, TICKETS.c.source))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {(priority, source): count for priority, source, count in rows}

    # -- what people do -------------------------------------------------------------------

    async def acknowledge(self, ticket_id: int, *, actor: str, now: datetime,
                          person: str | None = None) -> Ticket:
        # Whoever acknowledges takes the ticket, unless someone already has it. `person` is
        # who that is when `actor` says more ("alice (one-click link)": the assignee is alice).
        return await self._move(ticket_id, Event.ACKNOWLEDGE, actor=actor, now=now,
                                stamp="acknowledged_at", kind="acknowledged",
                                message=f"acknowledged by {actor}", data={},
                                values={"assignee": func.coalesce(TICKETS.c.assignee,
                                                                  person or actor)})

    async def resolve(self, ticket_id: int, *, actor: str, now: datetime,
                      note: str | None = None) -> Ticket:
        message = f"resolved by {actor}" + (f": {note}" if note else "")
        return await self._move(ticket_id, Event.RESOLVE, actor=actor, now=now,
                                stamp="resolved_at", kind="resolved", message=message,
                                data={"note": note} if note else {})

    async def close(self, ticket_id: int, *, actor: str, now: datetime) -> Ticket:
        return await self._move(ticket_id, Event.CLOSE, actor=actor, now=now,
                                stamp="closed_at", kind="closed", message=f"closed by {actor}",
                                data={})

    async def _move(self, ticket_id: int, event: Event, *, actor: str, now: datetime,
                    stamp: str, kind: str, message: str, data: dict[str, Any],
                    values: dict[str, Any] | None = None) -> Ticket:
        _require_aware(now, "now")
        async with write_transaction(self._engine) as connection:
            current = await self._locked(connection, ticket_id)
            status = transition(current.status, event)  # InvalidTransition rolls back
            row = (await connection.execute(
                update(TICKETS).where(TICKETS.c.id == ticket_id)
                .values({"status": status, stamp: now, "updated_at": now, **(values or {})})
                .returning(*TICKETS.c))).one()
            await connection.execute(insert(EVENTS), [event_row(
                ticket_id, now, kind, actor, message,
                {**data, "from": current.status.value, "to": status.value})])
            await poke(connection, [ticket_id], now)
            if current.status in ACTIVE_STATUSES and status not in ACTIVE_STATUSES:
                # What it held back pages now, as when its alert resolves (signal_batch.py).
                batch = SignalBatch(connection, self._dialect, now, _no_assessment,
                                    self.escalation, in_chunk=IN_CHUNK,
                                    inhibit_rules=self.inhibit_rules)
                await batch.release_attached(ticket_id, row.dedup_key)
        return _ticket(row)

    async def add_note(self, ticket_id: int, *, actor: str, text: str,
                       now: datetime) -> TimelineEntry:
        _require_aware(now, "now")
        async with write_transaction(self._engine) as connection:
            await _require_ticket(connection, ticket_id)
            await connection.execute(insert(EVENTS),
                                     [event_row(ticket_id, now, "note", actor, text, {})])
        return TimelineEntry(at=now.astimezone(UTC), kind="note", actor=actor, message=text,
                             data={})

    async def override_priority(self, ticket_id: int, *, priority: Priority, reason: str,
                                actor: str, now: datetime) -> Ticket:
        _require_aware(now, "now")
        async with write_transaction(self._engine) as connection:
            current = await self._locked(connection, ticket_id)
            row = (await connection.execute(
                update(TICKETS).where(TICKETS.c.id == ticket_id)
                .values(priority=priority, priority_override_reason=reason, updated_at=now)
                .returning(*TICKETS.c))).one()
            old = current.priority
            await connection.execute(insert(EVENTS), [event_row(
                ticket_id, now, "priority_overridden", actor,
                f"priority {old.value} -> {priority.value}: {reason}",
                {"from": old.value, "to": priority.value, "reason": reason})])
            if self.escalation is not None and priority is not old:
                # The escalation starts over under the new priority's policy (snapshotted
                # now), from its first step, whose notices say why.
                await restart_escalation(
                    connection, ticket_id, policy_id=self.escalation.policy_ids[priority],
                    now=now, reason=f"priority changed {old.value} → {priority.value} by "
                                    f"{actor}: {reason}")
        return _ticket(row)

    async def _locked(self, connection: AsyncConnection, ticket_id: int) -> Row[Any]:
        """The ticket's row, locked until the transaction ends (PostgreSQL; SQLite holds the
        database lock already). NO KEY UPDATE: timeline inserts may still reference it."""
        query: Select[Any] = select(TICKETS.c.status, TICKETS.c.priority).where(
            TICKETS.c.id == ticket_id)
        if self._dialect == "postgresql":
            query = query.with_for_update(key_share=True)
        row = (await connection.execute(query)).first()
        if row is None:
            raise TicketNotFound(ticket_id)
        return row


def _ticket(row: Row[Any]) -> Ticket:
    return Ticket(**row._mapping)


async def _require_ticket(connection: AsyncConnection, ticket_id: int) -> None:
    found = (await connection.execute(
        select(TICKETS.c.id).where(TICKETS.c.id == ticket_id))).first()
    if found is None:
        raise TicketNotFound(ticket_id)


def _no_assessment(signal: Signal, systems_affected: int) -> Assessment:
    raise AssertionError("releasing attached tickets opens none")


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, not {value.isoformat()}")


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
