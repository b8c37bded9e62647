"""Changes in the database: the changes, the hosts each touches, and each change's timeline.

Other parts of the collector read changes only through the functions at the top of this
module: `change_windows` (an approved or in-progress change's planned window is a maintenance
window) and `patch_changes` (changes that install packages, whose lag the patch reports
measure). Both take the engine and return frozen dataclasses, never rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, insert, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alerting.changes import (
    HARMFUL_OUTCOMES,
    WINDOW_STATUSES,
    ChangeStatus,
    ChangeType,
    Outcome,
    Planned,
    incident_window,
)
from collector.store.engine import write_transaction
from collector.store.models import ChangeEventRow, ChangeHostRow, ChangeRow, InventoryPushRow
from collector.store.ticket_rows import TICKETS
from collector.store.tickets import TimelineEntry

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
    team: str | None = None
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
              "team": new.team,
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


PUSHES = InventoryPushRow.__table__
# Changes that hold their window: their hosts are busy then (conflict detection).
PLANNED_STATUSES = (ChangeStatus.SUBMITTED, ChangeStatus.APPROVED, ChangeStatus.IN_PROGRESS)
# Default for `changes_with_incidents` ([changes] incident_window_hours).
INCIDENT_AFTER = timedelta(hours=24)


class ChangeNotFound(LookupError):
    def __init__(self, change_id: int) -> None:
        super().__init__(f"no change {change_id}")
        self.change_id = change_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    id: int
    type: ChangeType
    status: ChangeStatus
    summary: str
    author: str
    host_patterns: tuple[str, ...]
    hosts: tuple[str, ...]
    services: tuple[str, ...]
    planned_start: datetime
    planned_end: datetime
    timezone: str
    team: str | None
    actual_start: datetime | None
    actual_end: datetime | None
    outcome: Outcome | None
    risk_assessment: str
    implementation_plan: str
    rollback_plan: str
    documentation_url: str | None
    tickets: tuple[int, ...]
    packages: tuple[Package, ...] | None
    risk: dict[str, Any]
    risk_override: dict[str, Any] | None
    approver: str | None
    decision_reason: str | None
    decided_at: datetime | None
    freeze_override_reason: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def risk_level(self) -> str:
        """The level in force: a person's override, else the computed one."""
        return (self.risk_override or self.risk)["level"]

    def planned(self) -> Planned:
        return Planned(id=self.id, change_type=self.type, hosts=frozenset(self.hosts),
                       start=self.planned_start, end=self.planned_end)


# A change's timeline row has a ticket timeline row's shape: one class serves both.
ChangeEntry = TimelineEntry


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeFilter:
    """Which changes `list_changes` returns; empty tuples and None mean "any"."""

    status: tuple[ChangeStatus, ...] = ()
    type: tuple[ChangeType, ...] = ()
    host: str | None = None
    start: datetime | None = None   # with `end`: planned windows overlapping [start, end)
    end: datetime | None = None
    limit: int = 100
    before_id: int | None = None    # the cursor: changes with a smaller id


@dataclass(frozen=True, slots=True, kw_only=True)
class Update:
    """What a move writes: column values, and timeline entries (kind, message, data)."""

    values: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[tuple[str, str, Mapping[str, Any]], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    ticket: int
    host: str | None
    summary: str
    priority: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CausedIncidents:
    """A failed or rolled-back change and the incidents opened on its hosts during its
    window and within the attribution period after it."""

    change: Change
    incidents: tuple[Incident, ...]


_COLUMNS = [c for c in CHANGES.c]


def _change(row: Any, hosts: tuple[str, ...]) -> Change:
    m = row._mapping
    packages = m["packages"]
    return Change(
        id=m["id"], type=m["type"], status=m["status"], summary=m["summary"],
        author=m["author"], host_patterns=tuple(m["host_patterns"]), hosts=hosts,
        services=tuple(m["services"]), planned_start=m["planned_start"],
        planned_end=m["planned_end"], timezone=m["timezone"], team=m["team"],
        actual_start=m["actual_start"], actual_end=m["actual_end"], outcome=m["outcome"],
        risk_assessment=m["risk_assessment"], implementation_plan=m["implementation_plan"],
        rollback_plan=m["rollback_plan"], documentation_url=m["documentation_url"],
        tickets=tuple(m["tickets"]),
        packages=None if packages is None else tuple(
            Package(p["name"], p.get("version")) for p in packages),
        risk=dict(m["risk"]), risk_override=dict(m["risk_override"]) if m["risk_override"]
        else None, approver=m["approver"], decision_reason=m["decision_reason"],
        decided_at=m["decided_at"], freeze_override_reason=m["freeze_override_reason"],
        created_at=m["created_at"], updated_at=m["updated_at"])


async def _changes(connection: AsyncConnection, query: Select[Any]) -> list[Change]:
    rows = (await connection.execute(query)).all()
    hosts = await hosts_of(connection, [row.id for row in rows])
    return [_change(row, hosts.get(row.id, ())) for row in rows]


async def get_change(engine: AsyncEngine, change_id: int) -> Change | None:
    async with engine.connect() as connection:
        found = await _changes(connection, select(*_COLUMNS).where(CHANGES.c.id == change_id))
    return found[0] if found else None


async def list_changes(engine: AsyncEngine, search: ChangeFilter) -> list[Change]:
    """Changes matching `search`, newest (highest id) first."""
    query = select(*_COLUMNS)
    if search.status:
        query = query.where(CHANGES.c.status.in_([s.value for s in search.status]))
    if search.type:
        query = query.where(CHANGES.c.type.in_([t.value for t in search.type]))
    if search.host is not None:
        query = query.where(CHANGES.c.id.in_(
            select(CHANGE_HOSTS.c.change_id).where(CHANGE_HOSTS.c.host == search.host)))
    if search.start is not None:
        query = query.where(CHANGES.c.planned_end > search.start)
    if search.end is not None:
        query = query.where(CHANGES.c.planned_start < search.end)
    if search.before_id is not None:
        query = query.where(CHANGES.c.id < search.before_id)
    query = query.order_by(CHANGES.c.id.desc()).limit(search.limit)
    async with engine.connect() as connection:
        return await _changes(connection, query)


async def calendar(engine: AsyncEngine, start: datetime, end: datetime) -> list[Change]:
    """Submitted, approved, running and done changes whose planned window overlaps
    [start, end), by planned start (drafts and rejected changes hold no time)."""
    query = (select(*_COLUMNS)
             .where(CHANGES.c.status.not_in([ChangeStatus.DRAFT.value,
                                             ChangeStatus.REJECTED.value]),
                    CHANGES.c.planned_start < end, CHANGES.c.planned_end > start)
             .order_by(CHANGES.c.planned_start, CHANGES.c.id))
    async with engine.connect() as connection:
        return await _changes(connection, query)


async def planned_overlapping(engine: AsyncEngine, start: datetime,
                              end: datetime) -> list[Planned]:
    """Submitted, approved and running changes whose window overlaps [start, end)."""
    query = (select(CHANGES.c.id, CHANGES.c.type, CHANGES.c.planned_start,
                    CHANGES.c.planned_end)
             .where(CHANGES.c.status.in_([s.value for s in PLANNED_STATUSES]),
                    CHANGES.c.planned_start < end, CHANGES.c.planned_end > start))
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
        hosts = await hosts_of(connection, [row.id for row in rows])
    return [Planned(id=row.id, change_type=row.type, hosts=frozenset(hosts.get(row.id, ())),
                    start=row.planned_start, end=row.planned_end) for row in rows]


async def timeline(engine: AsyncEngine, change_id: int) -> list[ChangeEntry]:
    query = (select(CHANGE_EVENTS.c.at, CHANGE_EVENTS.c.kind, CHANGE_EVENTS.c.actor,
                    CHANGE_EVENTS.c.message, CHANGE_EVENTS.c.data)
             .where(CHANGE_EVENTS.c.change_id == change_id).order_by(CHANGE_EVENTS.c.id))
    async with engine.connect() as connection:
        return [ChangeEntry(*row) for row in (await connection.execute(query)).all()]


async def move(engine: AsyncEngine, change_id: int, step: Callable[[Change], Update], *,
               actor: str, now: datetime) -> Change:
    """Apply `step` to the change in one transaction: its row locked (PostgreSQL; SQLite
    holds the write lock), `step` decides from the current row (raising refuses, and nothing
    is written), then the values and the timeline entries are written."""
    async with write_transaction(engine) as connection:
        query = select(*_COLUMNS).where(CHANGES.c.id == change_id)
        if engine.dialect.name == "postgresql":
            query = query.with_for_update(key_share=True)
        found = await _changes(connection, query)
        if not found:
            raise ChangeNotFound(change_id)
        done = step(found[0])
        await connection.execute(update(CHANGES).where(CHANGES.c.id == change_id)
                                 .values(**done.values, updated_at=now))
        if done.events:
            await connection.execute(insert(CHANGE_EVENTS), [
                {"change_id": change_id, "at": now, "kind": kind, "actor": actor,
                 "message": message, "data": dict(data)} for kind, message, data in done.events])
        found = await _changes(connection, select(*_COLUMNS).where(CHANGES.c.id == change_id))
    return found[0]


async def add_note(engine: AsyncEngine, change_id: int, *, actor: str, text: str,
                   now: datetime) -> ChangeEntry:
    async with write_transaction(engine) as connection:
        exists = (await connection.execute(
            select(CHANGES.c.id).where(CHANGES.c.id == change_id))).first()
        if exists is None:
            raise ChangeNotFound(change_id)
        await connection.execute(insert(CHANGE_EVENTS), [
            {"change_id": change_id, "at": now, "kind": "note", "actor": actor,
             "message": text, "data": {}}])
    return ChangeEntry(at=now.astimezone(UTC), kind="note", actor=actor, message=text, data={})


async def known_hosts(engine: AsyncEngine) -> set[str]:
    """Every host the collector knows: from inventory pushes and from tickets."""
    names = union(select(PUSHES.c.host.label("name")),
                  select(TICKETS.c.host.label("name")).where(TICKETS.c.host.is_not(None)))
    async with engine.connect() as connection:
        return set((await connection.execute(select(names.subquery().c.name))).scalars())


async def existing_tickets(engine: AsyncEngine, ids: Sequence[int]) -> set[int]:
    """Which of `ids` are tickets."""
    if not ids:
        return set()
    async with engine.connect() as connection:
        return set((await connection.execute(
            select(TICKETS.c.id).where(TICKETS.c.id.in_(list(ids))))).scalars())


async def incident_count(engine: AsyncEngine, *, hosts: Sequence[str],
                         services: Sequence[str], since: datetime) -> int:
    """Tickets (not attached to a host-down ticket) opened since `since` on any of `hosts`,
    or on any of `services` as service or component."""
    if not hosts and not services:
        return 0
    terms = []
    if hosts:
        terms.append(TICKETS.c.host.in_(list(hosts)))
    if services:
        terms += [TICKETS.c.service.in_(list(services)),
                  TICKETS.c.component.in_(list(services))]
    query = (select(func.count()).select_from(TICKETS)
             .where(TICKETS.c.created_at >= since, TICKETS.c.parent_id.is_(None), or_(*terms)))
    async with engine.connect() as connection:
        return (await connection.execute(query)).scalar_one()


async def changes_with_incidents(engine: AsyncEngine, start: datetime, end: datetime, *,
                                 after: timedelta = INCIDENT_AFTER) -> list[CausedIncidents]:
    """Failed or rolled-back changes whose window began in [start, end), each with the
    tickets opened on its hosts from its start until `after` past its end (actual times
    where known, planned otherwise), by the change's start. Changes without such tickets are
    listed too (with none): the governance figure is both counts."""
    query = (select(*_COLUMNS)
             .where(CHANGES.c.outcome.in_([o.value for o in HARMFUL_OUTCOMES]),
                    func.coalesce(CHANGES.c.actual_start, CHANGES.c.planned_start) >= start,
                    func.coalesce(CHANGES.c.actual_start, CHANGES.c.planned_start) < end)
             .order_by(CHANGES.c.planned_start, CHANGES.c.id))
    out = []
    async with engine.connect() as connection:
        for change in await _changes(connection, query):
            since, until = incident_window(
                planned_start=change.planned_start, planned_end=change.planned_end,
                actual_start=change.actual_start, actual_end=change.actual_end, after=after)
            incidents: list[Incident] = []
            if change.hosts:
                rows = (await connection.execute(
                    select(TICKETS.c.id, TICKETS.c.host, TICKETS.c.summary,
                           TICKETS.c.priority, TICKETS.c.created_at)
                    .where(TICKETS.c.host.in_(list(change.hosts)),
                           TICKETS.c.created_at >= since, TICKETS.c.created_at < until,
                           TICKETS.c.parent_id.is_(None))
                    .order_by(TICKETS.c.created_at, TICKETS.c.id))).all()
                incidents = [Incident(ticket=r.id, host=r.host, summary=r.summary,
                                      priority=r.priority.value, created_at=r.created_at)
                             for r in rows]
            out.append(CausedIncidents(change=change, incidents=tuple(incidents)))
    return out


async def outcome_counts(engine: AsyncEngine) -> dict[tuple[ChangeType, Outcome], int]:
    """Completed (and reviewed) changes by type and outcome."""
    query = (select(CHANGES.c.type, CHANGES.c.outcome, func.count())
             .where(CHANGES.c.outcome.is_not(None))
             .group_by(CHANGES.c.type, CHANGES.c.outcome))
    async with engine.connect() as connection:
        return {(t, o): n for t, o, n in (await connection.execute(query)).all()}


async def review_due_count(engine: AsyncEngine) -> int:
    """Emergency changes completed and not yet reviewed."""
    query = (select(func.count()).select_from(CHANGES)
             .where(CHANGES.c.type == ChangeType.EMERGENCY.value,
                    CHANGES.c.status == ChangeStatus.COMPLETED.value))
    async with engine.connect() as connection:
        return (await connection.execute(query)).scalar_one()


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for offset in range(0, len(values), size):
        yield values[offset:offset + size]
