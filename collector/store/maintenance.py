"""Maintenance windows in the database, and the escalations they hold.

A window is a row of `maintenance_windows` (alerting/maintenance.py is its model). A ticket
that opens inside one carries the occurrence in `tickets.maintenance` and its escalation row
starts at the occurrence's end (collector/store/signal_batch.py); the escalation sweep holds
any other step that falls due inside a window (collector/escalator.py). When a window stops
early (`end`, or its change completed before the planned end), `release` makes the
escalations it still holds due at once, so nothing waits for an end that no longer comes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alerting.escalation import State
from alerting.maintenance import Scope, Window, parse_scope
from collector.store.engine import write_transaction
from collector.store.escalations import ESCALATIONS
from collector.store.models import HELD_PREDICATE, MaintenanceWindowRow
from collector.store.ticket_rows import EVENTS, TICKETS, event_row

WINDOWS = MaintenanceWindowRow.__table__


class WindowNotFound(LookupError):
    def __init__(self, window_id: int) -> None:
        super().__init__(f"no maintenance window {window_id}")
        self.window_id = window_id


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredWindow:
    """A stored window as the API and the CLI show it."""

    id: int
    window: Window
    comment: str
    created_by: str
    created_at: datetime
    ended_at: datetime | None
    ended_by: str | None

    def as_dict(self, now: datetime) -> dict[str, Any]:
        window = self.window
        current = window.occurrence_at(now)
        following = window.next_occurrence(now) if current is None else current
        return {
            "id": self.id, "name": window.name, "start": window.starts_at,
            "end": window.starts_at + window.duration if window.rrule is None else None,
            "duration_seconds": int(window.duration.total_seconds()),
            "rrule": window.rrule, "timezone": window.timezone,
            "hosts": list(window.scope.hosts), "services": list(window.scope.services),
            "matchers": [str(m) for m in window.scope.matchers], "comment": self.comment,
            "created_by": self.created_by, "created_at": self.created_at,
            "ended_at": self.ended_at, "ended_by": self.ended_by,
            "active": current is not None,
            "next": None if following is None else {"start": following.start,
                                                   "end": following.end},
        }


def _window(row: Any) -> StoredWindow:
    scope: Scope = parse_scope(row.hosts, row.services, row.matchers)
    return StoredWindow(
        id=row.id,
        window=Window(key=str(row.id), name=row.name, starts_at=row.starts_at,
                      duration=timedelta(seconds=row.duration_seconds),
                      timezone=row.timezone, rrule=row.rrule, scope=scope,
                      ended_at=row.ended_at),
        comment=row.comment, created_by=row.created_by, created_at=row.created_at,
        ended_at=row.ended_at, ended_by=row.ended_by)


class MaintenanceStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, window: Window, *, comment: str, actor: str,
                  now: datetime) -> StoredWindow:
        """Store a window parsed by `alerting.maintenance.parse_window` (its key is ignored)."""
        values = {
            "name": window.name, "starts_at": window.starts_at,
            "duration_seconds": int(window.duration.total_seconds()), "rrule": window.rrule,
            "timezone": window.timezone, "hosts": list(window.scope.hosts),
            "services": list(window.scope.services),
            "matchers": [str(m) for m in window.scope.matchers], "comment": comment,
            "created_by": actor, "created_at": now, "ended_at": None, "ended_by": None,
        }
        async with write_transaction(self._engine) as connection:
            row = (await connection.execute(
                insert(WINDOWS).values(values).returning(*WINDOWS.c))).one()
        return _window(row)

    async def get(self, window_id: int) -> StoredWindow:
        async with self._engine.connect() as connection:
            row = (await connection.execute(
                select(WINDOWS).where(WINDOWS.c.id == window_id))).first()
        if row is None:
            raise WindowNotFound(window_id)
        return _window(row)

    async def list(self, *, include_ended: bool = False, limit: int = 500) -> list[StoredWindow]:
        """Windows not ended by hand (all with `include_ended`), newest first."""
        query = select(WINDOWS).order_by(WINDOWS.c.id.desc()).limit(limit)
        if not include_ended:
            query = query.where(WINDOWS.c.ended_at.is_(None))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_window(row) for row in rows]

    async def current(self, now: datetime) -> list[Window]:
        """The windows that may still have an occurrence (not ended before `now`): what the
        collector holds in memory (collector/maintenance.py)."""
        query = (select(WINDOWS)
                 .where(or_(WINDOWS.c.ended_at.is_(None), WINDOWS.c.ended_at > now))
                 .order_by(WINDOWS.c.id))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_window(row).window for row in rows]

    async def end(self, window_id: int, *, actor: str, now: datetime) -> StoredWindow:
        """End a window now: no occurrence counts from now on, and the escalations it held are
        due at once (those whose alert still fires page now). Ending an ended window is no
        error (it stays ended when it was)."""
        async with write_transaction(self._engine) as connection:
            row = (await connection.execute(
                select(WINDOWS).where(WINDOWS.c.id == window_id))).first()
            if row is None:
                raise WindowNotFound(window_id)
            if row.ended_at is None or row.ended_at > now:
                row = (await connection.execute(
                    update(WINDOWS).where(WINDOWS.c.id == window_id)
                    .values(ended_at=now, ended_by=actor).returning(*WINDOWS.c))).one()
                await release(connection, [str(window_id)], now=now,
                              why=f"maintenance window {window_id} ended by {actor}")
        return _window(row)

    async def release(self, keys: Sequence[str], *, now: datetime, why: str) -> int:
        async with write_transaction(self._engine) as connection:
            return await release(connection, keys, now=now, why=why)

    async def held_count(self, now: datetime) -> int:
        """Active tickets opened (or held) in a maintenance occurrence still running."""
        async with self._engine.connect() as connection:
            rows = [row.maintenance
                    for row in (await connection.execute(_held_query(connection))).all()]
        return sum(1 for marker in rows if _running(marker, now))


async def release(connection: AsyncConnection, keys: Iterable[str], *, now: datetime,
                  why: str) -> int:
    """Inside the caller's transaction: the escalations held for the windows `keys` (waiting
    for a later time) become due now; those that paged nobody yet count their steps from now.
    Each ticket's timeline says why. Returns how many."""
    keys = set(keys)
    if not keys:
        return 0
    tickets = _held_query(connection).subquery("t")
    rows = (await connection.execute(
        select(tickets.c.id, tickets.c.maintenance, ESCALATIONS.c.next_step)
        .join(ESCALATIONS, ESCALATIONS.c.ticket_id == tickets.c.id)
        .where(ESCALATIONS.c.state != State.DONE.value, ESCALATIONS.c.due_at > now))).all()
    held = [row for row in rows
            if isinstance(row.maintenance, dict) and row.maintenance.get("window") in keys]
    if not held:
        return 0
    ids = [row.id for row in held]
    first = [row.id for row in held if row.next_step == 0]
    await connection.execute(
        update(ESCALATIONS).where(ESCALATIONS.c.ticket_id.in_(ids))
        .values(due_at=now, updated_at=now))
    if first:
        await connection.execute(
            update(ESCALATIONS).where(ESCALATIONS.c.ticket_id.in_(first)).values(epoch=now))
    await connection.execute(insert(EVENTS), [
        event_row(ticket_id, now, "maintenance_ended", "regie",
                  f"{why}: escalation released", {}) for ticket_id in ids])
    return len(ids)


def _held_query(connection: AsyncConnection) -> Any:
    """(id, maintenance) of the active tickets a window held, read from the partial index
    ix_tickets_held (its predicate written out, as SQLite and a generic plan need; INDEXED BY
    on SQLite, which keeps no statistics and would walk every active ticket)."""
    hint = " INDEXED BY ix_tickets_held" if connection.dialect.name == "sqlite" else ""
    # The table, index and predicate are this module's constants; nothing is interpolated.
    return text(f"SELECT id, maintenance FROM tickets{hint} "  # noqa: S608
                f"WHERE {HELD_PREDICATE}").columns(TICKETS.c.id, TICKETS.c.maintenance)


def _running(marker: Any, now: datetime) -> bool:
    if not isinstance(marker, dict) or not isinstance(marker.get("end"), str):
        return False
    try:
        return datetime.fromisoformat(marker["end"]) > now
    except ValueError:
        return False
