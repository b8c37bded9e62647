"""Vendor cases in the database: the cases, what each is linked to, each case's timeline, and
the follow-up reminders put on the notification queue.

Every write is one transaction: a case and its links and its first timeline row together; an
update, its timeline row and its new follow-up date together; a reminder's notification rows,
its timeline row and the case's next follow-up date together. The reminder sweep claims due
cases with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one writer at a time), and moves
each claimed case's follow-up date an interval ahead in the transaction that queues its
reminder: however many collectors sweep, and whenever they restart, a case is reminded once
per interval (docs/vendor-cases.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from collector.store.conflict import insert_or_skip
from collector.store.engine import write_transaction
from collector.store.models import (
    VENDOR_CASE_ACTIVE_PREDICATE,
    AssetRow,
    Base,
    InventoryPushRow,
    NotificationRow,
    TicketRow,
    VendorCaseEventRow,
    VendorCaseLinkRow,
    VendorCaseRow,
)
from registry.vendor_cases import (
    ACTIVE,
    CaseStatus,
    Severity,
    check_transition,
    reminder,
)

CASES = VendorCaseRow.__table__
LINKS = VendorCaseLinkRow.__table__
EVENTS = VendorCaseEventRow.__table__
NOTIFICATIONS = NotificationRow.__table__
TICKETS = TicketRow.__table__
PUSHES = InventoryPushRow.__table__
ASSETS = AssetRow.__table__

# The actor of what the collector does by itself (reminders).
COLLECTOR = "collector"
LINK_KINDS = ("ticket", "change", "host")
# Cases reminded per sweep transaction; a backlog is swept again at once.
SWEEP_LIMIT = 100
REMINDER_KIND = "vendor_case_reminder"


class CaseNotFound(LookupError):
    pass


class UnknownLink(LookupError):
    """A linked ticket, change or host that does not exist; the message names the field."""


class DuplicateCase(LookupError):
    """The vendor's case number is already a case here."""

    def __init__(self, vendor: str, number: str, case_id: int) -> None:
        super().__init__(f"case_number: {vendor} case {number} is already case #{case_id}")
        self.case_id = case_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Links:
    tickets: tuple[int, ...] = ()
    changes: tuple[int, ...] = ()
    hosts: tuple[str, ...] = ()

    def rows(self, case_id: int) -> list[dict[str, Any]]:
        return ([{"case_id": case_id, "kind": "ticket", "target": str(t)} for t in self.tickets]
                + [{"case_id": case_id, "kind": "change", "target": str(c)}
                   for c in self.changes]
                + [{"case_id": case_id, "kind": "host", "target": h} for h in self.hosts])

    def __bool__(self) -> bool:
        return bool(self.tickets or self.changes or self.hosts)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCase:
    vendor: str
    case_number: str
    summary: str
    severity: Severity
    owner: str
    product: str | None
    contract: str | None
    links: Links
    follow_up_days: int
    next_follow_up_at: datetime
    past_end_of_support: tuple[str, ...]
    warnings: tuple[str, ...] = ()     # said on the timeline when opened (expired contract)
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseUpdate:
    """What an update changes; None: unchanged. `vendor_update` says the vendor answered."""

    status: CaseStatus | None = None
    severity: Severity | None = None
    owner: str | None = None
    summary: str | None = None
    contract: str | None = None
    follow_up_days: int | None = None
    next_follow_up_at: datetime | None = None     # else now + the (new) interval
    vendor_update: bool = False
    note: str | None = None
    add_links: Links = field(default_factory=Links)


@dataclass(frozen=True, slots=True, kw_only=True)
class VendorCase:
    id: int
    vendor: str
    case_number: str
    summary: str
    severity: str
    status: str
    owner: str
    product: str | None
    contract: str | None
    past_end_of_support: tuple[str, ...]
    follow_up_days: int
    next_follow_up_at: datetime | None
    last_vendor_update_at: datetime | None
    last_reminded_at: datetime | None
    reminders: int
    opened_by: str
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    tickets: tuple[int, ...] = ()
    changes: tuple[int, ...] = ()
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseEvent:
    id: int
    at: datetime
    kind: str
    actor: str
    message: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseFilter:
    status: tuple[str, ...] = tuple(s.value for s in ACTIVE)
    vendor: str | None = None
    owner: str | None = None
    host: str | None = None
    case_number: str | None = None
    limit: int = 100
    before_id: int | None = None


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    claimed: int      # due cases reminded in this transaction
    queued: int       # notification rows queued


@dataclass(frozen=True, slots=True)
class OpenCaseCount:
    vendor: str
    status: str
    count: int
    oldest_opened_at: datetime
    overdue: int


class VendorCaseStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    # -- writes by people -------------------------------------------------------------------

    async def open(self, new: NewCase, *, actor: str, now: datetime) -> VendorCase:
        async with write_transaction(self._engine) as connection:
            existing = (await connection.execute(_case_numbered(new))).scalar()
            if existing is not None:
                raise DuplicateCase(new.vendor, new.case_number, existing)
            await _check_links(connection, new.links)
            # The unique index decides between two requests opening the same number at once
            # (the check above saw neither): the loser inserts nothing and is told the case.
            case_id = (await connection.execute(insert_or_skip(
                self._dialect, CASES, index_elements=("vendor", "case_number")).values(
                vendor=new.vendor, case_number=new.case_number, summary=new.summary,
                severity=new.severity.value, status=CaseStatus.OPEN.value, owner=new.owner,
                product=new.product, contract=new.contract,
                past_end_of_support=list(new.past_end_of_support),
                follow_up_days=new.follow_up_days, next_follow_up_at=new.next_follow_up_at,
                last_vendor_update_at=None, last_reminded_at=None, reminders=0,
                opened_by=actor, opened_at=now, updated_at=now, resolved_at=None,
                closed_at=None).returning(CASES.c.id))).scalar()
            if case_id is None:
                existing = (await connection.execute(_case_numbered(new))).scalar_one()
                raise DuplicateCase(new.vendor, new.case_number, existing)
            if new.links:
                await connection.execute(insert(LINKS), new.links.rows(case_id))
            events = [_event(case_id, now, "opened", actor,
                             f"opened with {new.vendor} as case {new.case_number}, "
                             f"{new.severity.value} severity, owned by {new.owner}; next "
                             f"follow-up {new.next_follow_up_at.isoformat()}",
                             {"follow_up_days": new.follow_up_days})]
            events += [_event(case_id, now, "warning", COLLECTOR, reason,
                              {"past_end_of_support": True})
                       for reason in new.past_end_of_support]
            events += [_event(case_id, now, "warning", COLLECTOR, warning, {})
                       for warning in new.warnings]
            if new.note:
                events.append(_event(case_id, now, "note", actor, new.note, {}))
            await connection.execute(insert(EVENTS), events)
            return await _read(connection, case_id)

    async def update(self, case_id: int, change: CaseUpdate, *, actor: str, now: datetime,
                     warnings: Sequence[str] = ()) -> VendorCase:
        """Apply an update: RefusedTransition (nothing written) when the status may not move."""
        async with write_transaction(self._engine) as connection:
            # A person's update waits for another writer of the case (SKIP LOCKED, as the
            # reminder sweep reads, would make a case being written look missing: 404).
            row = (await connection.execute(_locked(select(CASES).where(CASES.c.id == case_id),
                                                    self._dialect, wait=True))).first()
            if row is None:
                raise CaseNotFound(case_id)
            current = CaseStatus(row.status)
            status = change.status or current
            moved = check_transition(current, status) if change.status else False
            if not moved and current is CaseStatus.CLOSED:
                check_transition(current, current)   # a closed case takes nothing more
            if change == CaseUpdate():
                # An update of nothing (every field absent or null) changes nothing and leaves
                # no timeline record; its follow-up does not start again either.
                return await _read(connection, case_id)
            await _check_links(connection, change.add_links)
            values: dict[str, Any] = {"updated_at": now}
            said: list[str] = []
            for name in ("severity", "owner", "summary", "contract", "follow_up_days"):
                value = getattr(change, name)
                value = value.value if isinstance(value, Severity) else value
                if value is not None and value != getattr(row, name):
                    values[name] = value
                    said.append(f"{name.replace('_', ' ')} {getattr(row, name)} -> {value}")
            if moved:
                values["status"] = status.value
                said.insert(0, f"status {current.value} -> {status.value}")
                if status is CaseStatus.RESOLVED:
                    values["resolved_at"] = now
                elif status is CaseStatus.CLOSED:
                    values["closed_at"] = now
                elif current is CaseStatus.RESOLVED:
                    values["resolved_at"] = None
            if change.vendor_update:
                values["last_vendor_update_at"] = now
            days = change.follow_up_days or row.follow_up_days
            if status in ACTIVE:
                due = change.next_follow_up_at or now + timedelta(days=days)
                values["next_follow_up_at"] = due
                said.append(f"next follow-up {due.isoformat()}")
            else:
                values["next_follow_up_at"] = None
            await connection.execute(update(CASES).where(CASES.c.id == case_id).values(values))
            if change.add_links:
                known = {(r.kind, r.target) for r in (await connection.execute(
                    select(LINKS.c.kind, LINKS.c.target).where(LINKS.c.case_id == case_id)))}
                rows = [r for r in change.add_links.rows(case_id)
                        if (r["kind"], r["target"]) not in known]
                if rows:
                    await connection.execute(insert(LINKS), rows)
                    said.append("linked " + ", ".join(f"{r['kind']} {r['target']}"
                                                      for r in rows))
            kind = _kind(current, status, moved, change.vendor_update)
            message = "; ".join(said)
            if change.vendor_update:
                message = "the vendor answered" + (f"; {message}" if message else "")
            events = []
            if change != CaseUpdate(note=change.note):   # more than a note
                events.append(_event(case_id, now, kind, actor, message, {
                    "status": status.value, **({"from": current.value} if moved else {})}))
            if change.note:
                events.append(_event(case_id, now, "note", actor, change.note, {
                    "next_follow_up_at": _iso(values["next_follow_up_at"])}))
            events += [_event(case_id, now, "warning", COLLECTOR, w, {}) for w in warnings]
            await connection.execute(insert(EVENTS), events)
            return await _read(connection, case_id)

    async def note(self, case_id: int, *, text_: str, actor: str, now: datetime) -> VendorCase:
        """A note is an update: an active case's follow-up interval starts again."""
        return await self.update(case_id, CaseUpdate(note=text_), actor=actor, now=now)

    # -- reads --------------------------------------------------------------------------------

    async def get(self, case_id: int) -> VendorCase | None:
        async with self._engine.connect() as connection:
            exists = (await connection.execute(
                select(CASES.c.id).where(CASES.c.id == case_id))).scalar()
            return None if exists is None else await _read(connection, case_id)

    async def timeline(self, case_id: int) -> list[CaseEvent]:
        async with self._engine.connect() as connection:
            rows = (await connection.execute(
                select(EVENTS).where(EVENTS.c.case_id == case_id).order_by(EVENTS.c.id))).all()
        return [CaseEvent(id=r.id, at=r.at, kind=r.kind, actor=r.actor, message=r.message,
                          data=r.data) for r in rows]

    async def list(self, search: CaseFilter) -> list[VendorCase]:
        """Newest first."""
        query = select(CASES.c.id).where(CASES.c.status.in_(search.status))
        if search.vendor is not None:
            query = query.where(CASES.c.vendor == search.vendor)
        if search.owner is not None:
            query = query.where(CASES.c.owner == search.owner)
        if search.case_number is not None:
            query = query.where(CASES.c.case_number == search.case_number)
        if search.host is not None:
            query = query.where(CASES.c.id.in_(
                select(LINKS.c.case_id).where(LINKS.c.kind == "host",
                                              LINKS.c.target == search.host)))
        if search.before_id is not None:
            query = query.where(CASES.c.id < search.before_id)
        query = query.order_by(CASES.c.id.desc()).limit(search.limit)
        async with self._engine.connect() as connection:
            ids = list((await connection.execute(query)).scalars())
            return await _read_many(connection, ids)

    async def open_counts(self, now: datetime) -> list[OpenCaseCount]:
        """Active cases per vendor and status: how many, the oldest's opening, how many are
        past their follow-up date (for /metrics)."""
        overdue = func.sum(case((CASES.c.next_follow_up_at <= now, 1), else_=0))
        query = (select(CASES.c.vendor, CASES.c.status, func.count(),
                        func.min(CASES.c.opened_at), overdue)
                 .where(text(f"vendor_cases.{VENDOR_CASE_ACTIVE_PREDICATE}"))
                 .group_by(CASES.c.vendor, CASES.c.status))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [OpenCaseCount(vendor=v, status=s, count=c, oldest_opened_at=o, overdue=int(d or 0))
                for v, s, c, o, d in rows]

    # -- reminders ----------------------------------------------------------------------------

    async def sweep(self, now: datetime, *, channels: Sequence[str],
                    payload: Any, limit: int = SWEEP_LIMIT) -> SweepOutcome:
        """Queue a reminder for each active case past its follow-up date (up to `limit`), one
        notification per channel to its owner, and move its follow-up date an interval ahead;
        one transaction. `payload(case, overdue)` builds the notification's payload.
        Without channels the reminder is still recorded on the timeline (and counted), so a
        case never waits silently: the timeline says nobody could be told."""
        query = (select(CASES)
                 .where(text(f"vendor_cases.{VENDOR_CASE_ACTIVE_PREDICATE}"),
                        CASES.c.next_follow_up_at <= now)
                 .order_by(CASES.c.next_follow_up_at, CASES.c.id)
                 .limit(limit))
        async with write_transaction(self._engine) as connection:
            rows = (await connection.execute(_locked(query, self._dialect))).all()
            if not rows:
                return SweepOutcome(0, 0)
            queued: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            for row in rows:
                due = reminder(row.id, row.owner, CaseStatus(row.status), row.next_follow_up_at,
                               timedelta(days=row.follow_up_days), now)
                if due is None:   # not due after all (a clock step back): leave it
                    continue
                body = payload(row, due.overdue)
                for channel in channels:
                    queued.append({"ticket_id": None, "vendor_case_id": row.id,
                                   "channel": channel, "recipient": row.owner,
                                   "kind": REMINDER_KIND, "status": "pending", "attempts": 0,
                                   "next_attempt_at": now, "created_at": now,
                                   "finished_at": None, "last_error": None, "payload": body})
                days = due.overdue.total_seconds() / 86400
                told = (f"reminder queued for {row.owner} via {', '.join(channels)}"
                        if channels else f"follow-up overdue, but no notification channel is "
                                         f"configured to remind {row.owner}")
                events.append(_event(row.id, now, "reminder_queued" if channels
                                     else "reminder_failed", COLLECTOR,
                                     f"no update for {row.follow_up_days} day(s) "
                                     f"({days:.1f} day(s) past the follow-up date): {told}; "
                                     f"next follow-up {due.next_due.isoformat()}",
                                     {"channels": list(channels), "recipient": row.owner,
                                      "next_follow_up_at": due.next_due.isoformat()}))
                await connection.execute(
                    update(CASES).where(CASES.c.id == row.id).values(
                        next_follow_up_at=due.next_due, last_reminded_at=now,
                        reminders=CASES.c.reminders + 1))
            if queued:
                await connection.execute(insert(NOTIFICATIONS), queued)
            if events:
                await connection.execute(insert(EVENTS), events)
        return SweepOutcome(len(events), len(queued))


def reminder_events(outcomes: Iterable[Any], now: datetime) -> list[dict[str, Any]]:
    """Timeline rows for delivered or given-up reminders (collector/store/notifications.py
    writes them with the delivery round's outcomes)."""
    rows = []
    for o in outcomes:
        item = o.item
        who = item.recipient or "the channel"
        if o.result == "delivered":
            kind, message = "reminded", f"follow-up reminder delivered to {who} via " \
                                        f"{item.channel}"
        else:
            kind, message = ("reminder_failed",
                             f"follow-up reminder to {who} via {item.channel} given up after "
                             f"{item.attempts + 1} attempt(s): {o.error}")
        rows.append(_event(item.vendor_case_id, now, kind, "notifier", message,
                           {"notification_id": item.id, "channel": item.channel,
                            "recipient": item.recipient, "attempts": item.attempts + 1}))
    return rows


def _kind(current: CaseStatus, status: CaseStatus, moved: bool, vendor_update: bool) -> str:
    if moved and status is CaseStatus.RESOLVED:
        return "resolved"
    if moved and status is CaseStatus.CLOSED:
        return "closed"
    if moved and current in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        return "reopened"
    if vendor_update:
        return "vendor_update"
    return "updated"


def _event(case_id: int, at: datetime, kind: str, actor: str, message: str,
           data: Mapping[str, Any]) -> dict[str, Any]:
    return {"case_id": case_id, "at": at, "kind": kind, "actor": actor, "message": message,
            "data": dict(data)}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _case_numbered(new: NewCase):
    return select(CASES.c.id).where(CASES.c.vendor == new.vendor,
                                    CASES.c.case_number == new.case_number)


def _locked(query, dialect: str, *, wait: bool = False):
    """The cases' rows locked on PostgreSQL (SQLite has one writer at a time): skipped when
    another transaction holds them, or waited for (`wait`)."""
    if dialect == "postgresql":
        return query.with_for_update(skip_locked=not wait, of=CASES)
    return query


async def _check_links(connection: AsyncConnection, links: Links) -> None:
    """UnknownLink naming the first linked ticket, change or host that does not exist."""
    if links.tickets:
        found = set((await connection.execute(
            select(TICKETS.c.id).where(TICKETS.c.id.in_(links.tickets)))).scalars())
        for ticket in links.tickets:
            if ticket not in found:
                raise UnknownLink(f"tickets: no ticket #{ticket}")
    if links.changes:
        # The changes table (collector/store/changes.py) holds the changes; ids are checked
        # against it.
        changes = Base.metadata.tables.get("changes")
        if changes is not None:
            found = set((await connection.execute(
                select(changes.c.id).where(changes.c.id.in_(links.changes)))).scalars())
            for change in links.changes:
                if change not in found:
                    raise UnknownLink(f"changes: no change #{change}")
    if links.hosts:
        wanted = list(links.hosts)
        found = set((await connection.execute(
            select(PUSHES.c.host).where(PUSHES.c.host.in_(wanted)).distinct())).scalars())
        found |= set((await connection.execute(
            select(TICKETS.c.host).where(TICKETS.c.host.in_(wanted)).distinct())).scalars())
        found |= set((await connection.execute(
            select(ASSETS.c.name).where(ASSETS.c.name.in_(wanted)))).scalars())
        for host in links.hosts:
            if host not in found:
                raise UnknownLink(f"hosts: no host named {host!r} is known (it has pushed no "
                                  f"inventory, has no ticket and is no registry asset)")


async def _read(connection: AsyncConnection, case_id: int) -> VendorCase:
    (case,) = await _read_many(connection, [case_id])
    return case


async def _read_many(connection: AsyncConnection, ids: Sequence[int]) -> list[VendorCase]:
    if not ids:
        return []
    rows = {r.id: r for r in (await connection.execute(
        select(CASES).where(CASES.c.id.in_(ids)))).all()}
    links: dict[int, dict[str, list[str]]] = {i: {k: [] for k in LINK_KINDS} for i in ids}
    for r in (await connection.execute(
            select(LINKS).where(LINKS.c.case_id.in_(ids))
            .order_by(LINKS.c.case_id, LINKS.c.kind, LINKS.c.target))).all():
        links[r.case_id][r.kind].append(r.target)
    out = []
    for case_id in ids:
        r = rows[case_id]
        found = links[case_id]
        out.append(VendorCase(
            id=r.id, vendor=r.vendor, case_number=r.case_number, summary=r.summary,
            severity=r.severity, status=r.status, owner=r.owner, product=r.product,
            contract=r.contract, past_end_of_support=tuple(r.past_end_of_support),
            follow_up_days=r.follow_up_days, next_follow_up_at=r.next_follow_up_at,
            last_vendor_update_at=r.last_vendor_update_at, last_reminded_at=r.last_reminded_at,
            reminders=r.reminders, opened_by=r.opened_by, opened_at=r.opened_at,
            updated_at=r.updated_at, resolved_at=r.resolved_at, closed_at=r.closed_at,
            tickets=tuple(sorted(int(t) for t in found["ticket"])),
            changes=tuple(sorted(int(c) for c in found["change"])),
            hosts=tuple(found["host"])))
    return out
