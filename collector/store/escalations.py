"""Escalations in the database: durable timers, claimed with row locks, fired exactly once.

Each ticket that pages has one `escalations` row: its policy snapshot (an immutable
`escalation_policies` row), the next step, and `due_at`, when the sweep must look at it. The
row is written in the same transaction that opens the ticket (collector/store/signal_batch.py
for signals, tickets.py for reports), so no ticket escapes escalation, and a change to the
ticket (acknowledged, resolved, priority overridden) sets `due_at` to that moment, so the
sweep reacts at once.

`sweep` claims due rows, oldest first, with `FOR UPDATE SKIP LOCKED` on PostgreSQL: another
collector sweeping at the same moment takes other rows, never the same ones, and nobody waits.
The claimed rows' decisions (alerting/escalation.py) are written in the same transaction:
the next state, the queued notifications and the timeline rows. A step is therefore fired
once or not at all; a crash before the commit leaves the row due, and the next sweep (of this
collector after restart, or of another) fires it. On SQLite the writer lock serialises sweeps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.escalation import Audit, Decision, EscalationState, State, TicketFacts
from alerting.escalation_policy import Policies, Policy
from alerting.priority import Assessment
from alerting.ticket import ACTIVE_STATUSES, Priority, Status, Urgency
from collector.store.conflict import insert_or_skip
from collector.store.engine import write_transaction
from collector.store.models import (
    CORRELATED_PREDICATE,
    ESCALATION_DUE_PREDICATE,
    EscalationPolicyRow,
    EscalationRow,
    NotificationRow,
    TicketEventRow,
    TicketRow,
    UTCDateTime,
)

log = logging.getLogger("regie.collector.escalation")

POLICIES = EscalationPolicyRow.__table__
ESCALATIONS = EscalationRow.__table__
NOTIFICATIONS = NotificationRow.__table__
TICKETS = TicketRow.__table__
EVENTS = TicketEventRow.__table__

# Rows one sweep claims at most: one transaction's worth; a longer backlog takes more sweeps.
SWEEP_LIMIT = 50
ACTOR = "escalation"


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationPlan:
    """What a new ticket's escalation starts with: the stored policy per priority, and the
    team whose schedule answers for it."""

    policy_ids: Mapping[Priority, int]
    team_for: Callable[[Mapping[str, str | None]], str | None]

    def row(self, *, ticket_id: int, priority: Priority, host: str | None,
            service: str | None, component: str | None, now: datetime) -> dict[str, Any]:
        return {
            "ticket_id": ticket_id, "policy_id": self.policy_ids[priority],
            "state": State.RUNNING.value, "next_step": 0, "epoch": now, "due_at": now,
            "team": self.team_for({"host": host, "service": service, "component": component}),
            "notified": [], "multi_system_at": None, "updated_at": now,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Due:
    """A claimed escalation, with what its decision needs to know about the ticket."""

    ticket_id: int
    policy: Policy
    state: EscalationState
    facts: TicketFacts
    summary: str
    host: str | None
    service: str | None
    component: str | None
    created_at: datetime
    details: Mapping[str, Any]
    # Why the escalation started over ("priority changed P3 → P1 by alice: ..."), until its
    # first step fired again; None for a ticket's own first run.
    restart_reason: str | None = None
    # monitoring or user; the maintenance occurrence the ticket fired in (tickets.maintenance)
    source: str = "monitoring"
    maintenance: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Queued:
    """A notification to put on the delivery queue."""

    channel: str
    recipient: str | None
    kind: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Planned:
    decision: Decision
    notifications: Sequence[Queued] = ()
    audits: Sequence[Audit] = ()          # besides the decision's (e.g. unreachable people)
    # Held by a maintenance window: the occurrence, written to tickets.maintenance.
    maintenance: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SweepResult:
    claimed: int
    notifications: int
    reopened: int
    # The step numbers that notified someone in this sweep (one per escalation and step; set
    # by the escalator once the sweep committed): regie_escalation_steps_total.
    steps: tuple[int, ...] = ()


Planner = Callable[[Due, datetime], Planned]
# (host, service, urgency, systems affected) -> the assessment the matrix gives now
Reassess = Callable[[str | None, str | None, Urgency, int], Assessment | None]


class EscalationStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    async def register(self, policies: Policies, *, now: datetime) -> dict[Priority, int]:
        """Store each policy once (by digest); the ids new tickets' escalations point to."""
        statement = insert_or_skip(self._dialect, POLICIES, index_elements=["digest"])
        out: dict[Priority, int] = {}
        async with write_transaction(self._engine) as connection:
            for priority, policy in sorted(policies.by_priority.items()):
                digest = policy.digest()
                await connection.execute(statement, [{
                    "digest": digest, "priority": priority, "document": policy.snapshot(),
                    "created_at": now}])
                out[priority] = (await connection.execute(
                    select(POLICIES.c.id).where(POLICIES.c.digest == digest))).scalar_one()
        return out

    async def sweep(self, now: datetime, planner: Planner, *, window_seconds: float,
                    limit: int = SWEEP_LIMIT,
                    reassess: Reassess | None = None) -> SweepResult:
        """Claim up to `limit` due escalations, decide each, write the decisions; one
        transaction. `planner` must be free of I/O: it runs with the rows locked.

        When an escalation finds its impact spans several systems (the multi-system notice
        went out), `reassess(host, service, urgency, systems)` prices every ticket of the
        correlation group again: a ticket the matrix now rates more urgent is raised (not one
        a person set by hand), with a timeline row, and the group's other escalations are
        marked as told (the escalation manager hears of the group once)."""
        query = (select(ESCALATIONS, POLICIES.c.document, TICKETS.c.status,
                        TICKETS.c.priority, TICKETS.c.summary, TICKETS.c.host,
                        TICKETS.c.service, TICKETS.c.component, TICKETS.c.acknowledged_at,
                        TICKETS.c.created_at, TICKETS.c.details, TICKETS.c.source,
                        TICKETS.c.maintenance)
                 .join(POLICIES, POLICIES.c.id == ESCALATIONS.c.policy_id)
                 .join(TICKETS, TICKETS.c.id == ESCALATIONS.c.ticket_id)
                 .where(text(f"escalations.{ESCALATION_DUE_PREDICATE}"),
                        ESCALATIONS.c.due_at <= now)
                 .order_by(ESCALATIONS.c.due_at)
                 .limit(limit))
        if self._dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=ESCALATIONS)
        notifications = 0
        async with write_transaction(self._engine) as connection:
            rows = (await connection.execute(query)).all()
            if not rows:
                return SweepResult(0, 0, 0)
            events: list[dict[str, Any]] = []
            queued: list[dict[str, Any]] = []
            changes: list[dict[str, Any]] = []
            reopen: list[dict[str, Any]] = []
            held: list[dict[str, Any]] = []
            for row in rows:
                policy = Policy.from_snapshot(row.document)
                systems = 1
                if (policy.multi_system and row.multi_system_at is None
                        and row.status in ACTIVE_STATUSES and row.host
                        and (row.component or row.service)):
                    systems = await _systems(connection, self._dialect, row, window_seconds)
                due = Due(
                    ticket_id=row.ticket_id, policy=policy,
                    state=EscalationState(
                        next_step=row.next_step, state=State(row.state), epoch=row.epoch,
                        notified=tuple((person, tuple(channels))
                                       for person, channels in row.notified),
                        multi_system_at=row.multi_system_at),
                    facts=TicketFacts(status=row.status, priority=row.priority, team=row.team,
                                      acknowledged_at=row.acknowledged_at,
                                      systems_affected=systems),
                    summary=row.summary, host=row.host, service=row.service,
                    component=row.component, created_at=row.created_at, details=row.details,
                    restart_reason=row.restart_reason, source=row.source.value,
                    maintenance=row.maintenance)
                try:
                    planned = planner(due, now)
                except Exception as exc:  # one bad escalation must not stop the others
                    log.exception("escalation of ticket %d failed", row.ticket_id)
                    events.append(_audit(row.ticket_id, now, Audit(
                        "escalation_failed", f"escalation failed: {type(exc).__name__}: {exc}",
                        {})))
                    changes.append({
                        "b_ticket_id": row.ticket_id, "state": row.state,
                        "next_step": row.next_step, "epoch": row.epoch,
                        "due_at": now + timedelta(minutes=1), "notified": row.notified,
                        "multi_system_at": row.multi_system_at, "updated_at": now,
                        "restart_reason": row.restart_reason})
                    continue
                decision = planned.decision
                state = decision.state
                changes.append({
                    "b_ticket_id": row.ticket_id, "state": state.state.value,
                    "next_step": state.next_step, "epoch": state.epoch,
                    "due_at": decision.due_at,
                    "notified": [[person, list(channels)] for person, channels in state.notified],
                    "multi_system_at": state.multi_system_at, "updated_at": now,
                    # Said once, with the first step it restarted: kept while none fired.
                    "restart_reason": row.restart_reason if state.next_step == 0 else None})
                if planned.maintenance is not None:
                    held.append({"b_id": row.ticket_id, "maintenance": dict(planned.maintenance)})
                if decision.reopen and row.status is Status.ACKNOWLEDGED:
                    reopen.append({"b_id": row.ticket_id, "updated_at": now})
                if (reassess is not None and row.multi_system_at is None
                        and state.multi_system_at is not None and systems > 1):
                    events += await self._raise_group(connection, row, systems, now,
                                                      window_seconds, reassess)
                for audit in (*decision.audits, *planned.audits):
                    events.append(_audit(row.ticket_id, now, audit))
                for item in planned.notifications:
                    queued.append({
                        "ticket_id": row.ticket_id, "channel": item.channel,
                        "recipient": item.recipient, "kind": item.kind, "status": "pending",
                        "attempts": 0, "next_attempt_at": now, "created_at": now,
                        "finished_at": None, "last_error": None, "payload": dict(item.payload)})
            # Every claimed escalation's new state: one statement, many rows.
            await connection.execute(_STATE_UPDATE, changes)
            if reopen:
                await connection.execute(_REOPEN, reopen)
            if held:
                await connection.execute(_HELD, held)
            if queued:
                await connection.execute(insert(NOTIFICATIONS), queued)
                notifications = len(queued)
            if events:
                await connection.execute(insert(EVENTS), events)
        return SweepResult(len(rows), notifications, len(reopen))

    async def _raise_group(self, connection, row, systems: int, now: datetime,
                           window_seconds: float, reassess: Reassess) -> list[dict[str, Any]]:
        members = (await connection.execute(
            _group_query(self._dialect, "component" if row.component else "service"),
            _window(row, window_seconds))).all()
        raised, events = [], []
        for member in members:
            if member.priority_override_reason is not None:
                continue  # a person decided this one's priority
            assessment = reassess(member.host, member.service, member.urgency, systems)
            if assessment is None or PRIORITIES.index(assessment.priority) >= \
                    PRIORITIES.index(member.priority):
                continue
            raised.append({"b_id": member.id, "priority": assessment.priority,
                           "impact": assessment.impact, "updated_at": now})
            cause = "" if member.id == row.ticket_id else \
                f" (correlated with ticket {row.ticket_id})"
            events.append(_audit(member.id, now, Audit(
                "priority_raised",
                f"priority {member.priority.value} -> {assessment.priority.value}: impact "
                f"spans {systems} systems{cause}",
                {"from": member.priority.value, "to": assessment.priority.value,
                 "systems_affected": systems, "reasons": list(assessment.reasons)})))
        if raised:
            await connection.execute(_RAISE, raised)
        others = [m.id for m in members if m.id != row.ticket_id]
        if others:
            told = (select(ESCALATIONS.c.ticket_id)
                    .where(ESCALATIONS.c.ticket_id.in_(others),
                           ESCALATIONS.c.multi_system_at.is_(None)))
            if self._dialect == "postgresql":  # never wait for another sweep's rows
                told = told.with_for_update(skip_locked=True)
            await connection.execute(
                update(ESCALATIONS).where(ESCALATIONS.c.ticket_id.in_(told.scalar_subquery()))
                .values(multi_system_at=now))
        return events

    async def get(self, ticket_id: int) -> dict[str, Any] | None:
        """The escalation of a ticket as plain data (API and tests), or None."""
        query = (select(ESCALATIONS, POLICIES.c.document)
                 .join(POLICIES, POLICIES.c.id == ESCALATIONS.c.policy_id)
                 .where(ESCALATIONS.c.ticket_id == ticket_id))
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        return {
            "ticket_id": row.ticket_id, "state": row.state, "next_step": row.next_step,
            "epoch": row.epoch, "due_at": row.due_at, "team": row.team,
            "notified": row.notified, "multi_system_at": row.multi_system_at,
            "policy": row.document,
        }

    async def due_count(self, now: datetime) -> int:
        async with self._engine.connect() as connection:
            return (await connection.execute(
                select(func.count()).select_from(ESCALATIONS)
                .where(text(ESCALATION_DUE_PREDICATE), ESCALATIONS.c.due_at <= now)
            )).scalar_one()


_STATE_UPDATE = (update(ESCALATIONS)
                 .where(ESCALATIONS.c.ticket_id == bindparam("b_ticket_id"))
                 .values({name: bindparam(name) for name in (
                     "state", "next_step", "epoch", "due_at", "notified", "multi_system_at",
                     "updated_at", "restart_reason")}))
_REOPEN = (update(TICKETS)
           .where(TICKETS.c.id == bindparam("b_id"), TICKETS.c.status == Status.ACKNOWLEDGED)
           .values(status=Status.OPEN, acknowledged_at=None, updated_at=bindparam("updated_at")))


_HELD = (update(TICKETS).where(TICKETS.c.id == bindparam("b_id"))
         .values(maintenance=bindparam("maintenance")))
_RAISE = (update(TICKETS)
          .where(TICKETS.c.id == bindparam("b_id"), TICKETS.c.priority_override_reason.is_(None))
          .values(priority=bindparam("priority"), impact=bindparam("impact"),
                  updated_at=bindparam("updated_at")))
PRIORITIES = tuple(Priority)   # P1 (most urgent) first


def _window(row, window_seconds: float) -> dict[str, Any]:
    window = timedelta(seconds=window_seconds)
    return {"value": row.component or row.service, "since": row.created_at - window,
            "until": row.created_at + window}


def _correlated(select_list: str, dialect: str, column: str, tail: str = "") -> Any:
    """`SELECT <select_list>` over the correlation group: one range of the partial index
    ix_tickets_correlated_<column> (INDEXED BY on SQLite, which keeps no statistics and would
    otherwise walk every active ticket of the component)."""
    hint = f" INDEXED BY ix_tickets_correlated_{column}" if dialect == "sqlite" else ""
    # Column and index names are this module's constants; values are bound parameters.
    sql = (f"SELECT {select_list} FROM tickets{hint} "  # noqa: S608
           f"WHERE {column} = :value AND {CORRELATED_PREDICATE} "
           f"AND created_at >= :since AND created_at <= :until AND host IS NOT NULL{tail}")
    return text(sql).bindparams(bindparam("since", type_=UTCDateTime()),
                                bindparam("until", type_=UTCDateTime()))


def _group_query(dialect: str, column: str) -> Any:
    """The correlation group's tickets."""
    return _correlated("id, priority, urgency, host, service, priority_override_reason",
                       dialect, column, " ORDER BY id").columns(
        TICKETS.c.id, TICKETS.c.priority, TICKETS.c.urgency, TICKETS.c.host,
        TICKETS.c.service, TICKETS.c.priority_override_reason)


def _systems_query(dialect: str, column: str) -> Any:
    """Distinct hosts of the correlation group."""
    return _correlated("count(DISTINCT host)", dialect, column)


async def _systems(connection, dialect: str, row, window_seconds: float) -> int:
    """Distinct hosts among active, unattached tickets sharing the ticket's component (or,
    without one, its service), opened within the correlation window of it."""
    column = "component" if row.component else "service"
    count = (await connection.execute(_systems_query(dialect, column),
                                      _window(row, window_seconds))).scalar_one()
    return max(1, count)


def _audit(ticket_id: int, now: datetime, audit: Audit) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "at": now, "kind": audit.kind[:32], "actor": ACTOR,
            "message": audit.message, "data": dict(audit.data)}


async def restart(connection, ticket_id: int, *, policy_id: int, now: datetime,
                  reason: str) -> None:
    """Start the ticket's escalation over from its first step under policy `policy_id`
    (snapshotted now), inside the caller's transaction; `reason` is what its first notices
    say instead of "first notification". A finished escalation stays finished."""
    await connection.execute(
        update(ESCALATIONS)
        .where(ESCALATIONS.c.ticket_id == ticket_id, ESCALATIONS.c.state != State.DONE.value)
        .values(policy_id=policy_id, next_step=0, epoch=now, due_at=now,
                state=State.RUNNING.value, updated_at=now, restart_reason=reason))


async def poke(connection, ticket_ids: Sequence[int], now: datetime) -> None:
    """Make these tickets' escalations due now (their ticket changed); inside the caller's
    transaction. Finished escalations stay finished."""
    if not ticket_ids:
        return
    for start in range(0, len(ticket_ids), 10_000):
        chunk = list(ticket_ids[start:start + 10_000])
        await connection.execute(
            update(ESCALATIONS)
            .where(ESCALATIONS.c.ticket_id.in_(chunk), ESCALATIONS.c.state != State.DONE.value)
            .values(due_at=now, updated_at=now))
