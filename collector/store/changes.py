"""Changes in the database: the changes, the hosts each touches, and each change's timeline.

Other parts of the collector read changes only through the functions at the top of this
module: `change_windows` (an approved or in-progress change's planned window is a maintenance
window) and `patch_changes` (changes that install packages, whose lag the patch reports
measure). Both take the engine and return frozen dataclasses, never rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alerting.changes import WINDOW_STATUSES, ChangeStatus, ChangeType, Outcome
from collector.store.engine import write_transaction
from collector.store.models import ChangeEventRow, ChangeHostRow, ChangeRow

CHANGES = ChangeRow.__table__
CHANGE_HOSTS = ChangeHostRow.__table__
CHANGE_EVENTS = ChangeEventRow.__table__

# Change ids per `IN (...)` list (under SQLite's and asyncpg's bound-parameter limits).
IN_CHUNK = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeWindow:
    """An approved or in-progress change's planned window: a maintenance window."""

    id: int
    summary: str
    hosts: tuple[str, ...]        # resolved host names, sorted
    services: tuple[str, ...]
    planned_start: datetime       # UTC
    planned_end: datetime         # UTC, exclusive
    status: ChangeStatus


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str | None           # None: whatever the newest candidate is


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchChange:
    """A change that installs packages (a patch change)."""

    id: int
    type: ChangeType
    hosts: tuple[str, ...]        # resolved host names, sorted
    packages: tuple[Package, ...]
    planned_start: datetime       # UTC
    planned_end: datetime         # UTC
    status: ChangeStatus
    outcome: Outcome | None
    tickets: tuple[int, ...]      # linked ticket ids
    actual_start: datetime | None
    actual_end: datetime | None


async def change_windows(engine: AsyncEngine, start: datetime,
                         end: datetime) -> list[ChangeWindow]:
    """Approved or in-progress changes whose planned window overlaps [start, end), by start."""
    query = (select(CHANGES.c.id, CHANGES.c.summary, CHANGES.c.services,
                    CHANGES.c.planned_start, CHANGES.c.planned_end, CHANGES.c.status)
             .where(CHANGES.c.status.in_([s.value for s in WINDOW_STATUSES]),
                    CHANGES.c.planned_start < end, CHANGES.c.planned_end > start)
             .order_by(CHANGES.c.planned_start, CHANGES.c.id))
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
        hosts = await hosts_of(connection, [row.id for row in rows])
    return [ChangeWindow(id=row.id, summary=row.summary, hosts=hosts.get(row.id, ()),
                         services=tuple(row.services), planned_start=row.planned_start,
                         planned_end=row.planned_end, status=row.status) for row in rows]


async def patch_changes(engine: AsyncEngine, since: datetime) -> list[PatchChange]:
    """Changes with packages planned to start at or after `since`, in any state, by start."""
    query = (select(CHANGES.c.id, CHANGES.c.type, CHANGES.c.packages, CHANGES.c.planned_start,
                    CHANGES.c.planned_end, CHANGES.c.status, CHANGES.c.outcome,
                    CHANGES.c.tickets, CHANGES.c.actual_start, CHANGES.c.actual_end)
             .where(CHANGES.c.packages.is_not(None), CHANGES.c.planned_start >= since)
             .order_by(CHANGES.c.planned_start, CHANGES.c.id))
    async with engine.connect() as connection:
        rows = [row for row in (await connection.execute(query)).all() if row.packages]
        hosts = await hosts_of(connection, [row.id for row in rows])
    return [PatchChange(id=row.id, type=row.type, hosts=hosts.get(row.id, ()),
                        packages=tuple(Package(p["name"], p.get("version"))
                                       for p in row.packages),
                        planned_start=row.planned_start, planned_end=row.planned_end,
                        status=row.status, outcome=row.outcome,
                        tickets=tuple(row.tickets), actual_start=row.actual_start,
                        actual_end=row.actual_end) for row in rows]


async def hosts_of(connection: AsyncConnection,
                   change_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Each change's resolved hosts, sorted."""
    found: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(change_ids, IN_CHUNK):
        query = (select(CHANGE_HOSTS.c.change_id, CHANGE_HOSTS.c.host)
                 .where(CHANGE_HOSTS.c.change_id.in_(chunk))
                 .order_by(CHANGE_HOSTS.c.change_id, CHANGE_HOSTS.c.host))
        for change_id, host in (await connection.execute(query)).all():
            found[change_id].append(host)
    return {change_id: tuple(hosts) for change_id, hosts in found.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class NewChange:
    """A change as it is first stored (a draft): hosts already resolved, risk computed."""

    type: ChangeType
    summary: str
    author: str
    host_patterns: tuple[str, ...]
    hosts: tuple[str, ...]
    services: tuple[str, ...]
    planned_start: datetime
    planned_end: datetime
    timezone: str
    risk_assessment: str = ""
    implementation_plan: str = ""
    rollback_plan: str = ""
    documentation_url: str | None = None
    tickets: tuple[int, ...] = ()
    packages: tuple[Package, ...] | None = None
    risk: dict[str, Any]


async def insert_change(engine: AsyncEngine, new: NewChange, now: datetime) -> int:
    """Store a new draft change with its hosts and its `created` event; its id."""
    async with write_transaction(engine) as connection:
        change_id = (await connection.execute(
            insert(CHANGES).returning(CHANGES.c.id),
            [{"type": new.type, "status": ChangeStatus.DRAFT, "summary": new.summary,
              "author": new.author, "host_patterns": list(new.host_patterns),
              "services": list(new.services), "planned_start": new.planned_start,
              "planned_end": new.planned_end, "timezone": new.timezone,
              "risk_assessment": new.risk_assessment,
              "implementation_plan": new.implementation_plan,
              "rollback_plan": new.rollback_plan, "documentation_url": new.documentation_url,
              "tickets": list(new.tickets),
              "packages": None if new.packages is None else [
                  {"name": p.name, "version": p.version} for p in new.packages],
              "risk": new.risk, "created_at": now, "updated_at": now}])).scalar_one()
        if new.hosts:
            await connection.execute(insert(CHANGE_HOSTS), [
                {"change_id": change_id, "host": host} for host in sorted(set(new.hosts))])
        await connection.execute(insert(CHANGE_EVENTS), [{
            "change_id": change_id, "at": now, "kind": "created", "actor": new.author,
            "message": f"created as a {new.type.value} change",
            "data": {"type": new.type.value, "hosts": sorted(set(new.hosts))}}])
    return change_id


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for offset in range(0, len(values), size):
        yield values[offset:offset + size]
