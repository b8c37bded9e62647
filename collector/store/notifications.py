"""The notification delivery queue: durable, ordered per recipient, leased, dead-lettered.

Rows are queued by the escalation sweep (collector/store/escalations.py) in the transaction
that fires the step. The delivery loop (collector/notifier.py) `claim`s due rows: each is
leased by moving its `next_attempt_at` forward, so a collector that dies mid-send leaves it
to be claimed again when the lease ends (delivery is at least once; receivers deduplicate on
the delivery id, see docs/oncall.md). A row is claimed only when no earlier row for the same
ticket, channel and recipient is still pending: a trigger reaches a person before its
resolve. On PostgreSQL, `FOR UPDATE SKIP LOCKED` keeps two collectors off each other's rows.
Every final outcome (delivered, given up) writes a timeline row on the ticket.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from collector.store.engine import write_transaction
from collector.store.models import NotificationRow, TicketEventRow

NOTIFICATIONS = NotificationRow.__table__
EVENTS = TicketEventRow.__table__
ACTOR = "notifier"
STATUSES = ("pending", "delivered", "dead")
PENDING = literal_column("'pending'")


@dataclass(frozen=True, slots=True, kw_only=True)
class Claimed:
    id: int
    ticket_id: int | None          # None: a vendor case's follow-up reminder
    channel: str
    recipient: str | None
    kind: str
    attempts: int                  # attempts before this one
    created_at: datetime
    payload: Mapping[str, Any]
    vendor_case_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationView:
    id: int
    ticket_id: int | None
    vendor_case_id: int | None
    channel: str
    recipient: str | None
    kind: str
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    finished_at: datetime | None
    last_error: str | None


class NotificationStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    async def claim(self, now: datetime, *, limit: int, lease_seconds: float,
                    skip_channels: Collection[str] = ()) -> list[Claimed]:
        """Lease up to `limit` due notifications whose predecessors are all finished, none of
        `skip_channels` (those whose sends in flight are at their limit)."""
        earlier = aliased(NOTIFICATIONS)
        same_recipient = or_(earlier.c.recipient == NOTIFICATIONS.c.recipient,
                             and_(earlier.c.recipient.is_(None),
                                  NOTIFICATIONS.c.recipient.is_(None)))
        # 'pending' written out, not bound: the partial indexes (WHERE status = 'pending')
        # serve only queries that repeat their predicate literally.
        blocked = exists().where(earlier.c.ticket_id == NOTIFICATIONS.c.ticket_id,
                                 earlier.c.channel == NOTIFICATIONS.c.channel,
                                 earlier.c.status == PENDING,
                                 earlier.c.id < NOTIFICATIONS.c.id, same_recipient)
        query = (select(NOTIFICATIONS.c.id, NOTIFICATIONS.c.ticket_id, NOTIFICATIONS.c.channel,
                        NOTIFICATIONS.c.recipient, NOTIFICATIONS.c.kind,
                        NOTIFICATIONS.c.attempts, NOTIFICATIONS.c.created_at,
                        NOTIFICATIONS.c.payload, NOTIFICATIONS.c.vendor_case_id)
                 .where(NOTIFICATIONS.c.status == PENDING,
                        NOTIFICATIONS.c.next_attempt_at <= now, ~blocked)
                 .order_by(NOTIFICATIONS.c.next_attempt_at, NOTIFICATIONS.c.id)
                 .limit(limit))
        if skip_channels:
            query = query.where(NOTIFICATIONS.c.channel.not_in(sorted(skip_channels)))
        if self._dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=NOTIFICATIONS)
        lease = now + timedelta(seconds=lease_seconds)
        async with write_transaction(self._engine) as connection:
            rows = (await connection.execute(query)).all()
            if rows:
                await connection.execute(
                    update(NOTIFICATIONS)
                    .where(NOTIFICATIONS.c.id.in_([row.id for row in rows]))
                    .values(next_attempt_at=lease))
        return [Claimed(id=row.id, ticket_id=row.ticket_id, channel=row.channel,
                        recipient=row.recipient, kind=row.kind, attempts=row.attempts,
                        created_at=row.created_at, payload=row.payload,
                        vendor_case_id=row.vendor_case_id) for row in rows]

    async def finish(self, outcomes: list[Outcome], *, now: datetime) -> None:
        """Write a delivery round's outcomes in one transaction: delivered and dead ones
        finished (with a timeline row each), retried ones due again, rate-limited ones given
        back untried."""
        if not outcomes:
            return
        final, again, released, events, reminders = [], [], [], [], []
        for o in outcomes:
            item = o.item
            if o.result in ("delivered", "dead") and item.vendor_case_id is not None:
                # A vendor case's reminder: its outcome goes on the case's timeline.
                final.append({"b_id": item.id, "status": o.result,
                              "attempts": item.attempts + 1, "finished_at": now,
                              "last_error": o.error})
                reminders.append(o)
            elif o.result in ("delivered", "dead"):
                final.append({"b_id": item.id, "status": o.result,
                              "attempts": item.attempts + 1, "finished_at": now,
                              "last_error": o.error})
                who = _who(item)
                message = (f"{item.kind} notice delivered to {who} via {item.channel}"
                           + (f" ({o.error})" if o.error else "")) \
                    if o.result == "delivered" else \
                    (f"{item.kind} notice to {who} via {item.channel} given up after "
                     f"{item.attempts + 1} attempt(s): {o.error}")
                events.append({
                    "ticket_id": item.ticket_id, "at": now,
                    "kind": "notified" if o.result == "delivered" else "notification_failed",
                    "actor": ACTOR, "message": message,
                    "data": {"notification_id": item.id, "channel": item.channel,
                             "recipient": item.recipient, "attempts": item.attempts + 1,
                             **({"error": o.error} if o.result == "dead" else {})}})
            elif o.result == "retry":
                again.append({"b_id": item.id, "next_attempt_at": o.at,
                              "attempts": item.attempts + 1, "last_error": o.error})
            else:
                released.append({"b_id": item.id, "next_attempt_at": o.at})
        async with write_transaction(self._engine) as connection:
            if final:
                await connection.execute(_FINISH, final)
            if again:
                await connection.execute(_AGAIN, again)
            if released:
                await connection.execute(_RELEASE, released)
            if events:
                await connection.execute(insert(EVENTS), events)
            if reminders:
                from collector.store.vendor_cases import EVENTS as CASE_EVENTS
                from collector.store.vendor_cases import reminder_events

                await connection.execute(insert(CASE_EVENTS), reminder_events(reminders, now))

    async def list(self, *, status: str | None = None, ticket_id: int | None = None,
                   limit: int = 100, before_id: int | None = None) -> list[NotificationView]:
        """Newest first."""
        query = select(*(NOTIFICATIONS.c[name] for name in NotificationView.__slots__))
        if status is not None:
            query = query.where(NOTIFICATIONS.c.status == status)
        if ticket_id is not None:
            query = query.where(NOTIFICATIONS.c.ticket_id == ticket_id)
        if before_id is not None:
            query = query.where(NOTIFICATIONS.c.id < before_id)
        query = query.order_by(NOTIFICATIONS.c.id.desc()).limit(limit)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [NotificationView(**row._mapping) for row in rows]

    async def counts(self) -> dict[tuple[str, str], int]:
        """(channel, status) -> rows; the queue's depth and its dead letters."""
        query = (select(NOTIFICATIONS.c.channel, NOTIFICATIONS.c.status, func.count())
                 .where(NOTIFICATIONS.c.status.in_(("pending", "dead")))
                 .group_by(NOTIFICATIONS.c.channel, NOTIFICATIONS.c.status))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {(channel, status): count for channel, status, count in rows}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one delivery attempt came to: delivered, dead (error says why), retry (due again
    `at`, error says why) or released (rate limit: due again `at`, not an attempt)."""

    item: Claimed
    result: str
    at: datetime | None = None
    error: str | None = None


_FINISH = (update(NOTIFICATIONS)
           .where(NOTIFICATIONS.c.id == bindparam("b_id"), NOTIFICATIONS.c.status == PENDING)
           .values(status=bindparam("status"), attempts=bindparam("attempts"),
                   finished_at=bindparam("finished_at"), last_error=bindparam("last_error")))
_AGAIN = (update(NOTIFICATIONS)
          .where(NOTIFICATIONS.c.id == bindparam("b_id"), NOTIFICATIONS.c.status == PENDING)
          .values(next_attempt_at=bindparam("next_attempt_at"), attempts=bindparam("attempts"),
                  last_error=bindparam("last_error")))
_RELEASE = (update(NOTIFICATIONS)
            .where(NOTIFICATIONS.c.id == bindparam("b_id"), NOTIFICATIONS.c.status == PENDING)
            .values(next_attempt_at=bindparam("next_attempt_at")))


def _who(item: Claimed) -> str:
    return item.recipient or "the channel"
