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
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    column,
    func,
    literal,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from collector.store import sqlite_bulk
from collector.store.conflict import insert_or_skip
from collector.store.models import PACKAGE_UPDATE_OPEN_PREDICATE, PackageUpdateRow, TicketRow
from registry.patch_history import OpenEntry, Step, observed_at, step
from registry.patch_lag import Entry

UPDATES = PackageUpdateRow.__table__
TICKETS = TicketRow.__table__
C = UPDATES.c
OPEN_KEY = ["host", "manager", "package", "architecture", "version"]

# Values per IN (...) list: well under SQLite's and asyncpg's bind-parameter limits.
IN_CHUNK = 2_000


def _open() -> ColumnElement[bool]:
    # As PACKAGE_UPDATE_OPEN_PREDICATE, so the planner uses the partial index.
    return and_(C.installed_at.is_(None), C.withdrawn_at.is_(None))


# A host's open entries, read on SQLite from the driver directly (one hand-over to SQLite's
# thread instead of four through SQLAlchemy's cursor: collector/store/sqlite_bulk.py); the
# predicate is the partial index's (models.PACKAGE_UPDATE_OPEN_PREDICATE; a test checks it).
_OPEN_OF_HOST_SQLITE = (
    "SELECT id, manager, package, architecture, version, first_seen_at FROM package_updates "
    "WHERE host = ? AND installed_at IS NULL AND withdrawn_at IS NULL")
# Another collector may have recorded the same offered update a moment ago: the partial
# unique index decides, and the second insert is skipped.
_NEW = insert_or_skip("sqlite", UPDATES, index_elements=OPEN_KEY,
                      index_where=text(PACKAGE_UPDATE_OPEN_PREDICATE))
_INSTALLED = (update(UPDATES).where(C.id == bindparam("entry"), _open())
              .values(installed_at=bindparam("at", type_=C.installed_at.type),
                      installed_version=bindparam("reached", type_=C.installed_version.type),
                      exposure_seconds=bindparam("exposure", type_=C.exposure_seconds.type)))


_OPEN_OF_HOST_POSTGRESQL = (
    "SELECT id, manager, package, architecture, version, first_seen_at FROM package_updates "
    "WHERE host = $1 AND installed_at IS NULL AND withdrawn_at IS NULL")
# PostgreSQL: a push's writes in one statement, one round trip, from arrays (asyncpg sends
# each whole): the new entries, the installed ones, the withdrawn ones.
_STEP_POSTGRESQL = """\
WITH new AS (
    INSERT INTO package_updates (host, manager, package, architecture, version, security,
                                 first_seen_at)
    SELECT $1, t.manager, t.package, t.architecture, t.version, t.security, $2
    FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bool[])
        AS t(manager, package, architecture, version, security)
    ON CONFLICT (host, manager, package, architecture, version)
        WHERE installed_at IS NULL AND withdrawn_at IS NULL DO NOTHING
    RETURNING 1
), installed AS (
    UPDATE package_updates AS u
    SET installed_at = $2, installed_version = t.version, exposure_seconds = t.exposure
    FROM unnest($8::int[], $9::text[], $10::float8[]) AS t(id, version, exposure)
    WHERE u.id = t.id AND u.installed_at IS NULL AND u.withdrawn_at IS NULL
    RETURNING 1
)
UPDATE package_updates SET withdrawn_at = $2
WHERE id = ANY($11::int[]) AND installed_at IS NULL AND withdrawn_at IS NULL"""


def _driver(connection: AsyncConnection) -> Any:
    # The driver's connection, inside the transaction SQLAlchemy began on it: record_push
    # runs after the push's own INSERT, which began it (asyncpg's transaction starts then).
    return connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]


async def _open_entries(connection: AsyncConnection, host: str) -> list[tuple]:
    if connection.dialect.name == "sqlite":
        return [(*row[:5], datetime.fromisoformat(row[5] + "+00:00"))
                for row in await _driver(connection).execute_fetchall(_OPEN_OF_HOST_SQLITE,
                                                                      (host,))]
    if connection.dialect.name == "postgresql":
        return [tuple(row) for row in
                await _driver(connection).fetch(_OPEN_OF_HOST_POSTGRESQL, host)]
    return [tuple(row) for row in (await connection.execute(
        select(C.id, C.manager, C.package, C.architecture, C.version, C.first_seen_at)
        .where(C.host == host, _open()))).all()]


async def _write(connection: AsyncConnection, statement: Any, rows: list[dict]) -> None:
    if connection.dialect.name == "sqlite":
        await sqlite_bulk.execute(connection, statement, rows)
    else:
        await connection.execute(statement, rows)


async def record_push(connection: AsyncConnection, host: str, document: Mapping[str, Any],
                      received_at: datetime) -> Step:
    """Apply one push to the host's history, in the caller's transaction: one read of the
    host's open entries, then only what changed (PostgreSQL: one statement; SQLite: one
    executemany per kind, straight to the driver)."""
    rows = await _open_entries(connection, host)
    first_seen = {row[0]: row[5] for row in rows}
    change = step([OpenEntry(*row[:5]) for row in rows], document)
    if not change:
        return change
    at = observed_at(document, received_at)
    if connection.dialect.name == "postgresql":
        new = change.new
        await _driver(connection).execute(
            _STEP_POSTGRESQL, host, at,
            [o.manager for o in new], [o.package for o in new],
            [o.architecture for o in new], [o.version for o in new], [o.security for o in new],
            [i for i, _ in change.installed], [v for _, v in change.installed],
            [max(0.0, (at - first_seen[i]).total_seconds()) for i, _ in change.installed],
            list(change.withdrawn))
        return change
    if change.new:
        await _write(connection, _NEW, [
            {"host": host, "manager": o.manager, "package": o.package,
             "architecture": o.architecture, "version": o.version, "security": o.security,
             "first_seen_at": at} for o in change.new])
    if change.installed:
        await _write(connection, _INSTALLED, [
            {"entry": entry_id, "at": at, "reached": version,
             "exposure": max(0.0, (at - first_seen[entry_id]).total_seconds())}
            for entry_id, version in change.installed])
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
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


async def entries(engine: AsyncEngine, packages: Iterable[str], hosts: Iterable[str], *,
                  installed_from: datetime | None = None) -> list[Entry]:
    """The history of these packages on these hosts, for change lag: every entry still open
    and those installed from `installed_from` on (all when None)."""
    names, wanted = sorted(set(packages)), set(hosts)
    found: list[Entry] = []
    query = select(C.id, C.host, C.manager, C.package, C.first_seen_at, C.installed_at,
                   C.installed_version)
    if installed_from is not None:
        query = query.where(or_(C.installed_at.is_(None), C.installed_at >= installed_from))
    async with engine.connect() as connection:
        for chunk in _chunks(names):
            if engine.dialect.name == "sqlite":
                rows = await _sqlite_entries(connection, chunk, installed_from)
            else:
                rows = await connection.execute(query.where(C.package.in_(chunk),
                                                            C.withdrawn_at.is_(None)))
            found += [Entry(id=i, host=h, manager=m, package=p, first_seen_at=f,
                            installed_at=t, installed_version=iv)
                      for i, h, m, p, f, t, iv in rows if h in wanted]
    return found


_SQLITE_ENTRIES = (
    "SELECT id, host, manager, package, first_seen_at, installed_at, installed_version "
    "FROM package_updates WHERE withdrawn_at IS NULL AND package IN (?) "
    "AND (installed_at IS NULL OR installed_at >= ?)")


def _utc(stored: str | None) -> datetime | None:
    # SQLite's stored text of a time (models.UTCDateTime), read as that type reads it.
    return None if stored is None else datetime.fromisoformat(stored + "+00:00")


async def _sqlite_entries(connection: AsyncConnection, names: Sequence[str],
                          installed_from: datetime | None) -> list[tuple]:
    """`entries`' query on SQLite, from the driver directly: a change on every host reads
    tens of thousands of rows, and SQLAlchemy's row processing was half of the report."""
    placeholders = ", ".join("?" * len(names))   # only "?"s are put into the text
    sql = _SQLITE_ENTRIES.replace("(?)", f"({placeholders})", 1)
    since = (installed_from or datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC)
    driver = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
    rows = await driver.execute_fetchall(
        sql, (*names, since.replace(tzinfo=None).isoformat(" ", "microseconds")))
    return [(i, h, m, p, _utc(f), _utc(t), iv) for i, h, m, p, f, t, iv in rows]


def _month(engine: AsyncEngine, column: Any) -> ColumnElement[str]:
    if engine.dialect.name == "sqlite":
        # Stored as UTC text, "YYYY-MM-DD HH:MM:SS.ffffff" (models.UTCDateTime).
        return func.substr(column, 1, 7)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM")


@dataclass(frozen=True, slots=True)
class ExposureRow:
    key: str
    security: bool
    count: int
    total_seconds: float
    max_seconds: float


async def exposure(engine: AsyncEngine, since: datetime, until: datetime, by: str, *,
                   tied: Iterable[int] = (), hosts: Sequence[str] | None = None
                   ) -> list[ExposureRow]:
    """Installed - first seen of the updates installed in [since, until), left out the `tied`
    entries (a change's figure came from them), counted, summed and maximised by the database
    per group: the month installed, the host, or one group ("none") by change; security
    apart. `hosts` keeps those hosts only.

    The ids to leave out (and the hosts to keep) go to temporary tables joined in the same
    transaction: a change on every host ties tens of thousands of entries, more than an
    IN (...) list may hold."""
    key = {"month": _month(engine, C.installed_at), "host": C.host}.get(by, literal("none"))
    seconds = C.exposure_seconds
    query = (select(key, C.security, func.count(), func.sum(seconds), func.max(seconds))
             .where(C.installed_at >= since, C.installed_at < until)
             .group_by(key, C.security))
    postgres = engine.dialect.name == "postgresql"
    temporary = "CREATE TEMPORARY TABLE {} ({} {}) " + ("ON COMMIT DROP" if postgres else "")
    tied = sorted(set(tied))
    async with engine.connect() as connection, connection.begin():
        if tied:
            await connection.exec_driver_sql(temporary.format("patch_tied", "id", "INTEGER"))
            await _fill(connection, "patch_tied", tied)
            query = query.where(C.id.not_in(select(column("id")).select_from(
                table("patch_tied"))))
        if hosts is not None:
            await connection.exec_driver_sql(
                temporary.format("patch_hosts", "host", "VARCHAR(255)"))
            await _fill(connection, "patch_hosts", sorted(set(hosts)))
            query = query.where(C.host.in_(select(column("host")).select_from(
                table("patch_hosts"))))
        rows = (await connection.execute(query)).all()
        if not postgres:   # SQLite keeps temporary tables for the connection's life
            for name in ("patch_tied", "patch_hosts"):
                await connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
    return [ExposureRow(str(k), bool(sec), int(n), float(total or 0), float(top or 0))
            for k, sec, n, total, top in rows]


# The temporary tables' fills, written out (no SQL built from names).
_FILL = {
    ("patch_tied", "postgresql"): "INSERT INTO patch_tied SELECT unnest($1::int[])",
    ("patch_hosts", "postgresql"): "INSERT INTO patch_hosts SELECT unnest($1::text[])",
    ("patch_tied", "sqlite"): "INSERT INTO patch_tied (id) VALUES (?)",
    ("patch_hosts", "sqlite"): "INSERT INTO patch_hosts (host) VALUES (?)",
}


async def _fill(connection: AsyncConnection, name: str, values: Sequence[Any]) -> None:
    sql = _FILL[(name, connection.dialect.name)]
    if connection.dialect.name == "postgresql":
        # One statement for all: asyncpg sends the array whole.
        raw = await connection.get_raw_connection()
        await raw.driver_connection.execute(sql, list(values))  # type: ignore[union-attr]
        return
    driver = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
    await driver.executemany(sql, [(v,) for v in values])


async def hosts(engine: AsyncEngine) -> list[str]:
    """Every host with a history, sorted."""
    async with engine.connect() as connection:
        return list((await connection.execute(
            select(C.host).distinct().order_by(C.host))).scalars())


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
