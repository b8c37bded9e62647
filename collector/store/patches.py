"""The update history in the database (table `package_updates`, docs/patching.md).

`record_push` runs inside the transaction that stores an inventory push
(collector/store/inventory.py `also`): the push and its history step are committed together,
and a replayed push (same idempotency key) changes nothing. It reads only the host's open
entries (a partial index), so a push costs a few rows whatever the number of packages.
The reads serve `regie patch`, the API and /metrics alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from collector.store.models import PackageUpdateRow, TicketRow
from registry.patch_history import OpenEntry, Step, observed_at, step
from registry.patch_lag import Entry

UPDATES = PackageUpdateRow.__table__
TICKETS = TicketRow.__table__
C = UPDATES.c

# Values per IN (...) list: well under SQLite's and asyncpg's bind-parameter limits.
IN_CHUNK = 2_000


def _open() -> ColumnElement[bool]:
    # As PACKAGE_UPDATE_OPEN_PREDICATE, so the planner uses the partial index.
    return and_(C.installed_at.is_(None), C.withdrawn_at.is_(None))


async def record_push(connection: AsyncConnection, host: str, document: Mapping[str, Any],
                      received_at: datetime) -> Step:
    """Apply one push to the host's history, in the caller's transaction."""
    rows = (await connection.execute(
        select(C.id, C.manager, C.package, C.architecture, C.version)
        .where(C.host == host, _open()))).all()
    change = step([OpenEntry(*row) for row in rows], document)
    if not change:
        return change
    at = observed_at(document, received_at)
    if change.new:
        await connection.execute(insert(UPDATES), [
            {"host": host, "manager": o.manager, "package": o.package,
             "architecture": o.architecture, "version": o.version, "security": o.security,
             "first_seen_at": at} for o in change.new])
    for entry_id, version in change.installed:
        await connection.execute(update(UPDATES).where(C.id == entry_id, _open())
                                 .values(installed_at=at, installed_version=version))
    if change.withdrawn:
        await connection.execute(update(UPDATES).where(C.id.in_(change.withdrawn), _open())
                                 .values(withdrawn_at=at))
    return change


@dataclass(frozen=True, slots=True)
class PendingUpdate:
    host: str
    manager: str
    package: str
    architecture: str
    version: str
    security: bool
    first_seen_at: datetime


async def pending(engine: AsyncEngine, *, hosts: Sequence[str] | None = None,
                  security: bool = False) -> list[PendingUpdate]:
    """Updates still pending (as of each host's latest push), by host then package."""
    query = (select(C.host, C.manager, C.package, C.architecture, C.version, C.security,
                    C.first_seen_at).where(_open())
             .order_by(C.host, C.package, C.architecture, C.first_seen_at))
    if security:
        query = query.where(C.security.is_(True))
    async with engine.connect() as connection:
        if hosts is None:
            return [PendingUpdate(*row) for row in (await connection.execute(query)).all()]
        found: list[PendingUpdate] = []
        for chunk in _chunks(sorted(set(hosts))):
            found += [PendingUpdate(*row) for row in
                      (await connection.execute(query.where(C.host.in_(chunk)))).all()]
    return sorted(found, key=lambda u: (u.host, u.package, u.architecture, u.first_seen_at))


@dataclass(frozen=True, slots=True)
class HostPending:
    """One host's pending updates, counted."""

    host: str
    security: int
    other: int
    oldest_security: datetime | None    # first seen, of the oldest pending security update


async def pending_by_host(engine: AsyncEngine) -> list[HostPending]:
    """Every host with a pending update: counts and its oldest pending security update, by
    host (one grouped read: /metrics and `regie patch status`)."""
    is_security = C.security.is_(True)
    query = (select(C.host,
                    func.sum(case((is_security, 1), else_=0)),
                    func.sum(case((is_security, 0), else_=1)),
                    func.min(case((is_security, C.first_seen_at), else_=None)))
             .where(_open()).group_by(C.host).order_by(C.host))
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [HostPending(host, int(sec or 0), int(other or 0), _moment(engine, oldest))
            for host, sec, other, oldest in rows]


def _moment(engine: AsyncEngine, value: Any) -> datetime | None:
    # An aggregate (MIN) of a time column comes back as the driver's value: on SQLite the
    # stored text, which the column type would have parsed.
    if value is None or isinstance(value, datetime):
        return value
    from datetime import UTC
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


async def entries(engine: AsyncEngine, packages: Iterable[str],
                  hosts: Iterable[str]) -> list[Entry]:
    """The history of these packages on these hosts (every state), for change lag."""
    names, wanted = sorted(set(packages)), set(hosts)
    found: list[Entry] = []
    query = select(C.id, C.host, C.manager, C.package, C.version, C.security,
                   C.first_seen_at, C.installed_at, C.installed_version)
    async with engine.connect() as connection:
        for chunk in _chunks(names):
            for row in (await connection.execute(query.where(C.package.in_(chunk)))).all():
                if row.host in wanted:
                    found.append(Entry(id=row.id, host=row.host, manager=row.manager,
                                       package=row.package, version=row.version,
                                       security=row.security, first_seen_at=row.first_seen_at,
                                       installed_at=row.installed_at,
                                       installed_version=row.installed_version))
    return found


def _epoch(engine: AsyncEngine, column: Any) -> ColumnElement[Any]:
    # Seconds since 1970 computed by the database: a report over a million installed updates
    # reads numbers, not a million times two timestamps parsed in Python.
    if engine.dialect.name == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return func.extract("epoch", column)


async def installed(engine: AsyncEngine, since: datetime, until: datetime,
                    hosts: Sequence[str] | None = None
                    ) -> list[tuple[int, str, bool, float, float]]:
    """Updates installed in [since, until): (id, host, security, first seen, installed), the
    times as Unix seconds."""
    query = (select(C.id, C.host, C.security, _epoch(engine, C.first_seen_at),
                    _epoch(engine, C.installed_at))
             .where(C.installed_at >= since, C.installed_at < until))
    async with engine.connect() as connection:
        if hosts is None:
            result = await connection.execute(query)
            return [(i, h, bool(s), float(f), float(t)) for i, h, s, f, t in result]
        found = []
        for chunk in _chunks(sorted(set(hosts))):
            result = await connection.execute(query.where(C.host.in_(chunk)))
            found += [(i, h, bool(s), float(f), float(t)) for i, h, s, f, t in result]
        return found


async def ticket_priorities(engine: AsyncEngine, ids: Iterable[int]) -> dict[int, str]:
    """Each linked ticket's priority (P1 ... P4): a P1 makes a patch an emergency."""
    found: dict[int, str] = {}
    async with engine.connect() as connection:
        for chunk in _chunks(sorted(set(ids))):
            query = select(TICKETS.c.id, TICKETS.c.priority).where(TICKETS.c.id.in_(chunk))
            for ticket_id, priority in (await connection.execute(query)).all():
                found[ticket_id] = getattr(priority, "value", priority)
    return found


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for offset in range(0, len(values), IN_CHUNK):
        yield values[offset:offset + IN_CHUNK]
