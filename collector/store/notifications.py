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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from collector.store.engine import write_transaction
from collector.store.models import NotificationRow, TicketEventRow

NOTIFICATIONS = NotificationRow.__table__
EVENTS = TicketEventRow.__table__
ACTOR = "notifier"
STATUSES = ("pending", "delivered", "dead")


@dataclass(frozen=True, slots=True, kw_only=True)
class Claimed:
    id: int
    ticket_id: int
    channel: str
    recipient: str | None
    kind: str
    attempts: int                  # attempts before this one
    created_at: datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationView:
    id: int
    ticket_id: int
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

    async def claim(self, now: datetime, *, limit: int, lease_seconds: float) -> list[Claimed]:
        """Lease up to `limit` due notifications whose predecessors are all finished."""
        earlier = aliased(NOTIFICATIONS)
        same_recipient = or_(earlier.c.recipient == NOTIFICATIONS.c.recipient,
                             and_(earlier.c.recipient.is_(None),
                                  NOTIFICATIONS.c.recipient.is_(None)))
        blocked = exists().where(earlier.c.ticket_id == NOTIFICATIONS.c.ticket_id,
                                 earlier.c.channel == NOTIFICATIONS.c.channel,
                                 earlier.c.status == "pending",
                                 earlier.c.id < NOTIFICATIONS.c.id, same_recipient)
        query = (select(NOTIFICATIONS.c.id, NOTIFICATIONS.c.ticket_id, NOTIFICATIONS.c.channel,
                        NOTIFICATIONS.c.recipient, NOTIFICATIONS.c.kind,
                        NOTIFICATIONS.c.attempts, NOTIFICATIONS.c.created_at,
                        NOTIFICATIONS.c.payload)
                 .where(NOTIFICATIONS.c.status == "pending",
                        NOTIFICATIONS.c.next_attempt_at <= now, ~blocked)
                 .order_by(NOTIFICATIONS.c.next_attempt_at, NOTIFICATIONS.c.id)
                 .limit(limit))
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
                        created_at=row.created_at, payload=row.payload) for row in rows]

    async def release(self, item: Claimed, *, at: datetime) -> None:
        """Give a claimed notification back untried (rate limit): due again at `at`."""
        async with write_transaction(self._engine) as connection:
            await connection.execute(
                update(NOTIFICATIONS).where(NOTIFICATIONS.c.id == item.id,
                                            NOTIFICATIONS.c.status == "pending")
                .values(next_attempt_at=at))

    async def delivered(self, item: Claimed, *, now: datetime, detail: str) -> None:
        await self._finish(item, now=now, status="pending", final="delivered", error=None,
                           message=f"{item.kind} notice delivered to {_who(item)} via "
                                   f"{item.channel}" + (f" ({detail})" if detail else ""))

    async def retry(self, item: Claimed, *, now: datetime, at: datetime, error: str) -> None:
        async with write_transaction(self._engine) as connection:
            await connection.execute(
                update(NOTIFICATIONS).where(NOTIFICATIONS.c.id == item.id,
                                            NOTIFICATIONS.c.status == "pending")
                .values(attempts=item.attempts + 1, next_attempt_at=at, last_error=error))

    async def dead(self, item: Claimed, *, now: datetime, error: str) -> None:
        await self._finish(item, now=now, status="pending", final="dead", error=error,
                           message=f"{item.kind} notice to {_who(item)} via {item.channel} "
                                   f"given up after {item.attempts + 1} attempt(s): {error}")

    async def _finish(self, item: Claimed, *, now: datetime, status: str, final: str,
                      error: str | None, message: str) -> None:
        async with write_transaction(self._engine) as connection:
            result = await connection.execute(
                update(NOTIFICATIONS).where(NOTIFICATIONS.c.id == item.id,
                                            NOTIFICATIONS.c.status == status)
                .values(status=final, attempts=item.attempts + 1, finished_at=now,
                        last_error=error))
            if result.rowcount:
                kind = "notified" if final == "delivered" else "notification_failed"
                await connection.execute(insert(EVENTS), [{
                    "ticket_id": item.ticket_id, "at": now, "kind": kind, "actor": ACTOR,
                    "message": message,
                    "data": {"notification_id": item.id, "channel": item.channel,
                             "recipient": item.recipient, "attempts": item.attempts + 1,
                             **({"error": error} if error else {})}}])

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


def _who(item: Claimed) -> str:
    return item.recipient or "the channel"
