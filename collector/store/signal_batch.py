"""Monitoring signals applied in bulk: one attempt at a whole Alertmanager or Events API batch,
inside the transaction that `TicketStore.apply_signals` (tickets.py) opens and, when the batch
raced another collector, opens again.

A batch takes a fixed number of statements, whatever its size: it reads the active tickets of
the batch's dedup keys (and the inhibiting tickets, attached tickets and per-component hosts it
needs) once, applies the signals in order in memory, then writes with bulk statements. Repeats
are coalesced into the ticket's occurrence count, not a timeline row each.

Inhibition (one problem pages once). A new ticket whose host has an active, unattached ticket
that inhibits it attaches to that ticket (`parent_id`) instead of paging: a host-down ticket
inhibits all of its host's other alerts; the rules file's inhibit rules (alerting/inhibition.py)
name the others, e.g. FilesystemAlmostFull inhibits FilesystemFilling of the same mount. An
attached ticket gets no escalation. When the inhibitor resolves (by its alert, or by a person:
`release_attached`, called by tickets.py), its still-active attached
tickets are released as Alertmanager un-inhibits: each attaches to another active inhibitor of
its host if there is one, else becomes a ticket of its own and starts paging. Only triggers
that open a ticket are inhibited; a ticket already open when its inhibitor fires stays as it is
(it has paged already).

One active ticket per dedup key is the database's rule (a partial unique index), so it holds
across several collector processes on PostgreSQL:

- Existing tickets the batch touches are read `FOR NO KEY UPDATE` (PostgreSQL), so another
  collector's change to them waits for this transaction (or this one for it, then re-reads
  them). The lock still lets others add timeline rows (FOR KEY SHARE from the foreign key).
- New tickets are inserted with `ON CONFLICT DO NOTHING` on the partial index. When a key
  turns out to be taken, another collector opened that ticket after this batch read the
  table: the batch raises `KeyTaken`, and `TicketStore.apply_signals` rolls the transaction
  back and applies the batch again, now finding that ticket and counting the signal as a
  repeat of it. The insert waited for the other transaction to commit, so the retry sees its
  ticket; rows are written in key and id order so two batches do not lock each other in a
  cycle (a deadlock, should one still happen, is retried as well).
- The inhibitors a batch attaches new tickets to were read without a lock: they are locked
  `FOR SHARE` before the insert and must still be active, else the batch raises
  `InhibitorGone` and is applied again (a ticket attached to an inhibitor that a concurrent
  transaction resolved would never page). A host-down ticket opened by a concurrent
  transaction is not seen: the new ticket pages on its own (one page more, never one less).
- On SQLite writers take the database lock before reading (`BEGIN IMMEDIATE`), so batches
  are serial and never conflict.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Row, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting.inhibition import InhibitRule, alert_labels, inhibited_by, rule_index
from alerting.maintenance import Occurrence
from alerting.priority import Assessment
from alerting.ticket import ACTIVE_STATUSES, Action, Priority, Recovery, Signal, Source, Status
from collector.store import sqlite_bulk
from collector.store.batch_statements import (
    ENTRY_COLUMNS,
    EVENTS_PARAMETER,
    INHIBITION_COLUMNS,
    escalations_statement,
    events_statement,
    hold_inhibitors_statement,
    may_inhibit_terms,
    open_statement,
    open_with_events_statement,
    pg_active_by_key,
    pg_attached,
    pg_host_down,
    sqlite_indexed,
    update_statement,
)
from collector.store.escalations import EscalationPlan, poke
from collector.store.models import ACTIVE_PREDICATE, HOST_DOWN_PREDICATE
from collector.store.recordset import PARAMETER, encode_rows
from collector.store.ticket_rows import (
    IS_ACTIVE,
    TICKETS,
    created_event_row,
    event_row,
)


class Result(enum.StrEnum):
    """What a signal did (`Outcome.result`; a str)."""

    CREATED = "created"
    ATTACHED = "attached"
    REPEATED = "repeated"
    RESOLVED = "resolved"
    RECOVERED = "recovered"
    ACKNOWLEDGED = "acknowledged"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one signal did. For a signal that reached a ticket, that ticket's priority,
    component and opening time (for the caller's metrics); None when it was ignored."""

    dedup_key: str
    ticket_id: int | None
    result: str
    priority: Priority | None = None
    component: str | None = None
    opened_at: datetime | None = None


Assess = Callable[[Signal, int], Assessment]
# (host, service, labels, at) -> the maintenance occurrence covering an alert, or None
# (collector/maintenance.py: the active windows, held in memory).
InMaintenance = Callable[[str | None, str | None, dict[str, str], datetime],
                         "Occurrence | None"]


class KeyTaken(Exception):
    """Another collector opened tickets for these keys after this batch read the table."""

    def __init__(self, keys: Iterable[str]) -> None:
        super().__init__()
        self.keys = sorted(keys)

    @property
    def reason(self) -> str:
        return f"{len(self.keys)} key(s) opened meanwhile by another collector"


class InhibitorGone(KeyTaken):
    """Inhibitors this batch attached tickets to were resolved by a transaction that had not
    committed when the batch read them (PostgreSQL: another collector, or another of this
    collector's group transactions)."""

    @property
    def reason(self) -> str:
        return f"{len(self.keys)} inhibiting ticket(s) resolved meanwhile"


@dataclass(slots=True, eq=False)
class _Entry:
    """One ticket as the batch sees it: read from the table, or opened by the batch."""

    key: str
    status: Status
    priority: Priority
    component: str | None
    host: str | None
    created_at: datetime
    occurrences: int
    last_seen: datetime
    recovery: Recovery | None
    id: int | None = None                    # None until a new ticket is inserted
    recovered_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    changed: bool = False
    parent: _Entry | None = None             # the inhibiting ticket it is attached to
    values: dict[str, Any] = field(default_factory=dict)  # new tickets: the row to insert
    read_status: Status | None = None       # existing tickets: the status read from the table
    # Inhibition: whether it is a host-down ticket, its labels as inhibit rules see them, its
    # service (for an escalation started on release), and whether its parent changed here.
    host_down: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    service: str | None = None
    reparented: bool = False
    # A new ticket opened inside a maintenance window: its escalation waits until the end.
    held_until: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def opened_here(self) -> bool:
        """A ticket this batch opens (no id before its insert)."""
        return bool(self.values)


class SignalBatch:
    """One attempt at applying a batch inside one transaction."""

    def __init__(self, connection: AsyncConnection, dialect: str, now: datetime,
                 assess: Assess, escalation: EscalationPlan | None = None, *,
                 in_chunk: int, inhibit_rules: Sequence[InhibitRule] = (),
                 maintenance: InMaintenance | None = None) -> None:
        self.connection = connection
        self.maintenance = maintenance
        self.dialect = dialect
        self.now = now
        self.assess = assess
        self.escalation = escalation
        self.in_chunk = in_chunk                            # keys per `IN (...)` list
        self.by_key: dict[str, _Entry] = {}                 # the key's latest ticket
        self.existing: list[_Entry] = []
        self.new: list[_Entry] = []
        self.inhibit_rules = tuple(inhibit_rules)
        self.rule_index = rule_index(self.inhibit_rules)
        # Labels as inhibit rules see them, per signal that may open a ticket (asked when
        # reading and again when opening it).
        self.signal_labels: dict[int, dict[str, str]] = {}
        # Per host: its active unattached tickets that may inhibit a new one (host-down first,
        # then oldest first); and the active tickets attached to one the batch may resolve.
        self.inhibitors: dict[str, list[_Entry]] = defaultdict(list)
        self.attached: list[_Entry] = []
        # Per component of the batch's triggers: active tickets per host, and how many hosts
        # have one (the systems affected).
        self.component_hosts: dict[str, Counter[str]] = {}
        self.component_systems: Counter[str] = Counter()
        # Timeline rows in the order they happened: (ticket, kind, actor, message, data,
        # the attached ticket whose id goes into data).
        self.events: list[tuple[_Entry, str, str, str, dict[str, Any], _Entry | None]] = []

    async def apply(self, signals: Sequence[Signal]) -> list[Outcome]:
        await self._read(signals)
        results = [self._apply(signal) for signal in signals]
        await self._write()
        return [_outcome(signal.dedup_key, entry, result)
                for signal, (entry, result) in zip(signals, results, strict=True)]

    # Reading: five statements at most, whatever the batch size.

    async def _read(self, signals: Sequence[Signal]) -> None:
        keys = sorted({s.dedup_key for s in signals})
        for chunk in _chunks(keys, self.in_chunk):
            if self.dialect == "postgresql":
                query: Executable = pg_active_by_key().bindparams(keys=list(chunk))
            else:
                query = sqlite_indexed("uq_tickets_active_dedup_key",
                                        f"dedup_key IN :values AND {ACTIVE_PREDICATE}", chunk)
            for row in (await self.connection.execute(query)).all():
                entry = _existing(row)
                self.by_key[entry.key] = entry
                self.existing.append(entry)
        # Only a trigger that may open a ticket needs its host's inhibitors and its
        # component's hosts: one without an active ticket, or one whose ticket a signal of
        # this batch may resolve first. Repeats (half of a busy batch) need neither.
        moving = {s.dedup_key for s in signals if s.action is not Action.TRIGGER}
        opening = [s for s in signals if s.action is Action.TRIGGER
                   and (s.dedup_key not in self.by_key or s.dedup_key in moving)]
        hosts = {s.host for s in opening if s.host and not s.host_down}
        components = sorted({s.component for s in opening if s.component and s.host})
        resolving = {self.by_key[s.dedup_key].id: self.by_key[s.dedup_key] for s in signals
                     if s.action is Action.RESOLVE and s.dedup_key in self.by_key}
        if resolving:
            await self._read_attached(resolving, hosts)
        # A rule can only inhibit its targets: hosts where nothing opening (or released) is
        # a target of any rule need only their host-down tickets, read from a small partial
        # index, not every ticket the rules' sources might be.
        targets = {s.host for s in opening if s.host and not s.host_down
                   and self._is_target(self._labels(s))}
        targets.update(e.host for e in self.attached if e.host and self._is_target(e.labels))
        await self._read_inhibitors(hosts, targets)
        if components:
            query = (select(TICKETS.c.component, TICKETS.c.host, func.count())
                     .where(TICKETS.c.component.in_(components), TICKETS.c.host.is_not(None),
                            IS_ACTIVE)
                     .group_by(TICKETS.c.component, TICKETS.c.host))
            for component, host, count in (await self.connection.execute(query)).all():
                self.component_hosts.setdefault(component, Counter())[host] += count
                self.component_systems[component] += 1

    async def _read_attached(self, resolving: dict[int, _Entry], hosts: set[str]) -> None:
        """Tickets attached to one this batch may resolve: released if it does. Their hosts
        join `hosts`, whose inhibitors a released ticket may move to."""
        if self.dialect == "postgresql":
            query: Executable = pg_attached().bindparams(parents=sorted(resolving))
        else:
            # Without INDEXED BY, SQLite walks every active ticket (ix_tickets_status_id) for
            # this: 12 ms per batch at 40k open tickets, a fifth of the ingest's CPU.
            query = sqlite_indexed("ix_tickets_parent_id",
                                    f"parent_id IN :values AND {ACTIVE_PREDICATE}",
                                    sorted(resolving), INHIBITION_COLUMNS)
        for row in (await self.connection.execute(query)).all():
            entry = self._known(row)
            entry.parent = resolving[row.parent_id]
            self.attached.append(entry)
            if entry.host:
                hosts.add(entry.host)

    async def _read_inhibitors(self, hosts: set[str], targets: set[str] | None = None) -> None:
        """The active inhibitors of `hosts`: by the rules for those in `targets` (all when
        None), only host-down tickets for the others."""
        ruled = (hosts if targets is None else hosts & targets) if self.inhibit_rules else set()
        if ruled:
            # Any active unattached ticket of these hosts may inhibit by the rules; the
            # database leaves out those that cannot (collector/store/inhibitors.py).
            query = (select(*INHIBITION_COLUMNS)
                     .where(TICKETS.c.host.in_(sorted(ruled)), TICKETS.c.parent_id.is_(None),
                            IS_ACTIVE, *may_inhibit_terms(self.inhibit_rules))
                     .order_by(TICKETS.c.id))
            for row in (await self.connection.execute(query)).all():
                entry = self._known(row)
                if entry.host_down or self._inhibits_some(entry):
                    self.inhibitors[row.host].append(entry)
        if downs := sorted(hosts - ruled):
            if self.dialect == "postgresql":
                query = pg_host_down().bindparams(hosts=downs)
            else:
                query = sqlite_indexed("ix_tickets_active_host_down",
                                        f"host IN :values AND {HOST_DOWN_PREDICATE['sqlite']}",
                                        downs)
            for row in (await self.connection.execute(query)).all():
                entry = self._known(row)
                entry.host_down = True
                self.inhibitors[row.host].append(entry)
        for entries in self.inhibitors.values():
            entries.sort(key=lambda e: not e.host_down)   # stable: oldest first within each

    async def release_attached(self, ticket_id: int, key: str | None) -> None:
        """A person resolved (or closed) ticket `ticket_id` in this transaction: its still
        active attached tickets are released as when its alert resolves."""
        parent = _Entry(key=key or f"#{ticket_id}", status=Status.RESOLVED, priority=Priority.P4,
                        component=None, host=None, created_at=self.now, occurrences=0,
                        last_seen=self.now, recovery=None, id=ticket_id)
        hosts: set[str] = set()
        await self._read_attached({ticket_id: parent}, hosts)
        if not self.attached:
            return
        await self._read_inhibitors(hosts)
        self._release(parent)
        await self._write()

    def _known(self, row: Row[Any]) -> _Entry:
        """The entry for a ticket row: the same object when the batch also carries its key,
        so a resolve earlier in the batch stops later alerts from attaching to it."""
        entry = self.by_key.get(row.dedup_key)
        if entry is None or entry.id != row.id:
            entry = _existing(row[:len(ENTRY_COLUMNS)])
        if len(row) > len(ENTRY_COLUMNS):
            entry.host_down = bool(row.host_down)
            entry.service = row.service
            entry.labels = alert_labels(details=row.details or {}, host=row.host,
                                        component=row.component)
        return entry

    def _inhibits_some(self, entry: _Entry) -> bool:
        return self.rule_index.is_source(entry.labels)

    def _is_target(self, labels: dict[str, str]) -> bool:
        return self.rule_index.is_target(labels)

    def _labels(self, signal: Signal) -> dict[str, str]:
        labels = self.signal_labels.get(id(signal))
        if labels is None:
            labels = alert_labels(details=signal.details, host=signal.host,
                                  component=signal.component)
            self.signal_labels[id(signal)] = labels
        return labels

    def _inhibitor(self, host: str | None, labels: dict[str, str],
                   excluded: _Entry | None = None) -> _Entry | None:
        """The active ticket that inhibits an alert of `host` with `labels`, if any."""
        if not host:
            return None
        for entry in self.inhibitors.get(host, ()):
            if entry.active and entry is not excluded and (
                    entry.host_down or inhibited_by(self.inhibit_rules, entry.labels, labels)):
                return entry
        return None

    # Applying, in memory and in order.

    def _apply(self, signal: Signal) -> tuple[_Entry | None, Result]:
        entry = self.by_key.get(signal.dedup_key)
        active = entry if entry is not None and entry.active else None
        if signal.action is Action.TRIGGER:
            if active is None:
                return self._open(signal)
            active.occurrences += 1
            active.last_seen = max(active.last_seen, signal.occurred_at)
            active.recovered_at = None
            active.changed = True
            return active, Result.REPEATED
        if active is None:
            return None, Result.IGNORED
        if signal.action is Action.RESOLVE:
            if Recovery.CONFIRM in (signal.recovery, active.recovery):
                if active.recovered_at is None:
                    self._event(active, "recovered", signal.origin,
                                f"recovered: {signal.summary}",
                                {"occurred_at": signal.occurred_at.isoformat()})
                active.recovered_at = self.now
                active.changed = True
                return active, Result.RECOVERED
            active.status = Status.RESOLVED
            active.resolved_at = self.now
            active.changed = True
            self._count_host(active, -1)
            self._event(active, "resolved", signal.origin, f"resolved: {signal.summary}",
                        {"occurred_at": signal.occurred_at.isoformat()})
            self._release(active)
            return active, Result.RESOLVED
        if active.status is Status.OPEN:  # acknowledge
            active.status = Status.ACKNOWLEDGED
            active.acknowledged_at = self.now
            active.changed = True
            self._event(active, "acknowledged", signal.origin,
                        f"acknowledged by {signal.origin}", {})
            return active, Result.ACKNOWLEDGED
        return active, Result.IGNORED

    def _release(self, resolved: _Entry) -> None:
        """Its attached tickets still active go to another inhibitor, or page on their own
        (Alertmanager un-inhibits an alert whose inhibiting alert resolved)."""
        children = [e for e in (*self.attached, *self.new) if e.parent is resolved and e.active]
        for child in children:
            parent = self._inhibitor(child.host, child.labels, excluded=resolved)
            child.parent = parent
            child.reparented = True
            if parent is not None:
                self._event(parent, "attached", "regie",
                            f"attached: ticket {child.key} (its inhibitor resolved)",
                            {"dedup_key": child.key}, attached=child)
                continue
            self._event(child, "released", "regie",
                        "released: the ticket it was attached to resolved; it pages now",
                        {"dedup_key": resolved.key})
            if child.host and (child.host_down or self._inhibits_some(child)):
                self.inhibitors[child.host].append(child)

    def _open(self, signal: Signal) -> tuple[_Entry, Result]:
        labels = self._labels(signal)
        parent = None if signal.host_down else self._inhibitor(signal.host, labels)
        systems = 1
        if signal.component and signal.host:
            hosts = self.component_hosts.setdefault(signal.component, Counter())
            systems = self.component_systems[signal.component] + (hosts[signal.host] <= 0)
        assessment = self.assess(signal, systems)
        entry = _Entry(key=signal.dedup_key, status=Status.OPEN, priority=assessment.priority,
                       component=signal.component, host=signal.host, created_at=self.now,
                       occurrences=1, last_seen=signal.occurred_at, recovery=signal.recovery,
                       parent=parent, host_down=signal.host_down, labels=labels,
                       service=signal.service)
        entry.values = {
            "dedup_key": signal.dedup_key, "priority": assessment.priority,
            "impact": assessment.impact, "urgency": assessment.urgency,
            "summary": signal.summary, "description": "", "host": signal.host,
            "service": signal.service, "component": signal.component,
            "source": Source.MONITORING, "origin": signal.origin, "reporter": None,
            "assignee": None, "first_seen": signal.occurred_at, "created_at": self.now,
            "closed_at": None, "host_down": signal.host_down, "recovery": signal.recovery,
            "priority_override_reason": None, "details": dict(signal.details),
            "maintenance": None,
        }
        self.by_key[signal.dedup_key] = entry
        self.new.append(entry)
        self._count_host(entry, +1)
        if parent is None and signal.host and (signal.host_down or self._inhibits_some(entry)):
            # A host-down ticket goes before the host's other inhibitors, as when read.
            inhibitors = self.inhibitors[signal.host]
            at = sum(e.host_down for e in inhibitors) if signal.host_down else len(inhibitors)
            inhibitors.insert(at, entry)
        created = created_event_row(None, self.now, signal.origin, assessment,
                                    systems_affected=systems)
        self._event(entry, "created", signal.origin, created["message"], created["data"])
        occurrence = None if self.maintenance is None else \
            self.maintenance(signal.host, signal.service, labels, self.now)
        if occurrence is not None:
            # Recorded, not paged: the escalation starts when the window ends (and then only
            # if the ticket is still active: collector/escalator.py).
            marker = occurrence.marker()
            entry.values["maintenance"] = marker
            entry.held_until = occurrence.end
            self._event(entry, "maintenance", "regie",
                        f"during maintenance: {occurrence.window.name} (window "
                        f"{occurrence.window.key}, until {marker['end']}); escalation held",
                        marker)
        if parent is None:
            return entry, Result.CREATED
        self._event(parent, "attached", signal.origin, f"attached: {signal.summary}",
                    {"dedup_key": signal.dedup_key}, attached=entry)
        return entry, Result.ATTACHED

    def _count_host(self, entry: _Entry, delta: int) -> None:
        hosts = self.component_hosts.get(entry.component or "")
        if hosts is None or not entry.host:
            return
        before = hosts[entry.host]
        hosts[entry.host] = before + delta
        if before <= 0 < before + delta:
            self.component_systems[entry.component] += 1
        elif before + delta <= 0 < before:
            self.component_systems[entry.component] -= 1

    def _event(self, entry: _Entry, kind: str, actor: str, message: str,
               data: dict[str, Any], *, attached: _Entry | None = None) -> None:
        self.events.append((entry, kind, actor, message, data, attached))

    # Writing: existing tickets, new tickets, parent links, timeline; bulk statements each.

    async def _write(self) -> None:
        # Repeats leave the indexed status alone: on SQLite their UPDATE does not name it, so
        # SQLite need not touch the indexes (PostgreSQL: see below).
        changed = sorted((e for e in self.existing if e.changed), key=lambda e: e.id or 0)
        repeated = [e for e in changed if e.status is e.read_status]
        moved = [e for e in changed if e.status is not e.read_status]
        if self.dialect == "postgresql" and changed:
            # One statement for repeats and moves (one round trip less per batch, while this
            # transaction holds its row locks). Repeats write their status, acknowledged_at
            # and resolved_at back as read (the rows are locked): PostgreSQL compares the
            # indexed columns' values, not the SET list, so an unchanged status still gets a
            # HOT update.
            await self._update(_MOVE_COLUMNS, [self._moved(e) for e in changed])
        else:
            if repeated:
                await self._update(_REPEAT_COLUMNS, [
                    {"id_": e.id, "occurrences": e.occurrences, "last_seen": e.last_seen,
                     "recovered_at": e.recovered_at, "updated_at": self.now}
                    for e in repeated])
            if moved:
                await self._update(_MOVE_COLUMNS, [self._moved(e) for e in moved])
        if self.dialect == "postgresql":
            await self._hold_inhibitors()
        # A ticket the batch opened and already resolved is outside the unique index and
        # cannot conflict; written first, it also gets the smaller id of the two for its key.
        # (Rare: a trigger and its resolve in one batch. Several may share a key, so the ids
        # come back in parameter order rather than by key.)
        done = sorted((e for e in self.new if not e.active), key=lambda e: e.key)
        if done:
            rows = (await self.connection.execute(
                insert(TICKETS).returning(TICKETS.c.id, sort_by_parameter_order=True),
                [self._row(e) for e in done])).all()
            for entry, row in zip(done, rows, strict=True):
                entry.id = row.id
        opened = sorted((e for e in self.new if e.active), key=lambda e: e.key)
        events_written = False
        if opened and self.dialect == "postgresql" and self.events:
            # The new tickets and the timeline in one statement: the events of a ticket opened
            # here name it by its key, which the INSERT's RETURNING turns into its id. One
            # round trip (and one statement's work in the server) less per batch.
            result = await self.connection.execute(open_with_events_statement(), {
                PARAMETER: encode_rows([self._row(e) for e in opened]),
                EVENTS_PARAMETER: encode_rows(self._event_rows(keyed=True))})
            rows = result.all()
            events_written = True
        elif opened:
            rows = await self._bulk(open_statement(self.dialect), [self._row(e) for e in opened])
        if opened:
            ids = {key: id_ for id_, key in rows}
            taken = [e.key for e in opened if e.key not in ids]
            if taken:
                raise KeyTaken(taken)
            for entry in opened:
                entry.id = ids[entry.key]
        # Alerts attached to an inhibitor this same batch opened (its id is known now), and
        # attached tickets released because their inhibitor resolved.
        links = [{"id_": e.id, "parent_id": e.parent.id} for e in self.new
                 if e.parent is not None and e.parent.opened_here]
        released = [e for e in self.attached if e.reparented]
        links += [{"id_": e.id, "parent_id": e.parent.id if e.parent else None}
                  for e in released]
        if links:
            await self._update(("parent_id",), links)
        if self.escalation is not None:
            # Escalations: for the tickets opened here that page (not those attached to an
            # inhibitor) and the released ones; tickets that moved make theirs due now.
            plan = self.escalation
            starts = [_held(plan.row(ticket_id=e.id, priority=e.priority, host=e.host,
                                     service=e.service, component=e.component, now=self.now),
                            e.held_until)
                      for e in [*opened, *released] if e.parent is None]
            if starts:
                await self._bulk(escalations_statement(self.dialect), starts)
            await poke(self.connection, [e.id for e in moved], self.now)
        if self.events and not events_written:
            await self._bulk(events_statement(self.dialect), self._event_rows(keyed=False))

    async def _hold_inhibitors(self) -> None:
        """PostgreSQL: the existing tickets this batch attaches tickets to, locked FOR SHARE
        and still active, or InhibitorGone (the batch is applied again, and sees them
        resolved). The batch read them without a lock: a transaction resolving one of them
        meanwhile holds it FOR NO KEY UPDATE, which the foreign key's FOR KEY SHARE does not
        wait for, and it has read that ticket's attached tickets already, so a ticket attached
        to it now would stay attached to a resolved ticket and never page. FOR SHARE waits
        for that transaction to end; once this one holds the lock, none can resolve them
        before it commits (the resolver then reads the tickets attached here)."""
        parents = sorted({e.parent.id for e in (*self.new, *self.attached)
                          if e.parent is not None and e.parent.id is not None
                          and not e.parent.opened_here and e.active})
        if not parents:
            return
        held = set((await self.connection.execute(hold_inhibitors_statement(),
                                                  {"ids": parents})).scalars())
        if gone := set(parents) - held:
            raise InhibitorGone(str(id_) for id_ in gone)

    def _event_rows(self, *, keyed: bool) -> list[dict[str, Any]]:
        """The timeline rows. `keyed`: for open_with_events_statement, which knows the ids of
        the tickets opened here by their keys (ticket_key, attached_key) and keeps the order
        by position (n)."""
        if not keyed:
            return [event_row(entry.id, self.now, kind, actor, message,
                              {**data, "ticket_id": attached.id} if attached is not None else data)
                    for entry, kind, actor, message, data, attached in self.events]
        rows = []
        for n, (entry, kind, actor, message, data, attached) in enumerate(self.events):
            row = event_row(entry.id, self.now, kind, actor, message, data)
            row["n"] = n
            if entry.id is None:
                row["ticket_key"] = entry.key
            if attached is not None:
                if attached.id is None:
                    row["attached_key"] = attached.key
                else:
                    row["data"] = {**data, "ticket_id": attached.id}
            rows.append(row)
        return rows

    def _moved(self, entry: _Entry) -> dict[str, Any]:
        return {"id_": entry.id, "status": entry.status, "occurrences": entry.occurrences,
                "last_seen": entry.last_seen, "recovered_at": entry.recovered_at,
                "acknowledged_at": entry.acknowledged_at, "resolved_at": entry.resolved_at,
                "updated_at": self.now}

    async def _update(self, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
        await self._bulk(update_statement(self.dialect, columns), rows)

    async def _bulk(self, statement: Executable,
                    rows: list[dict[str, Any]]) -> Sequence[Sequence[Any]]:
        """Run a bulk statement for `rows`: as one JSON record set on PostgreSQL (one
        statement in the server instead of one per row: 2-3x faster there), as tuples straight
        to the driver on SQLite (in-process, no round trips; extracting each column from JSON
        was 4x slower than binding it; collector/store/sqlite_bulk.py). Returns what the
        statement returns, in no particular order."""
        if self.dialect != "postgresql":
            return await sqlite_bulk.execute(self.connection, statement, rows)
        result = await self.connection.execute(statement, {PARAMETER: encode_rows(rows)})
        return result.all() if result.returns_rows else []

    def _row(self, entry: _Entry) -> dict[str, Any]:
        parent = entry.parent
        return {
            **entry.values,
            "status": entry.status, "occurrences": entry.occurrences,
            "last_seen": entry.last_seen, "updated_at": self.now,
            "acknowledged_at": entry.acknowledged_at, "resolved_at": entry.resolved_at,
            "recovered_at": entry.recovered_at,
            # A parent opened in this batch has no id yet: linked after the insert.
            "parent_id": parent.id if parent is not None and not parent.opened_here else None,
        }


def _held(row: dict[str, Any], until: datetime | None) -> dict[str, Any]:
    """An escalation row that starts at the end of a maintenance window: its first step is
    due then, and later steps count from then."""
    if until is not None:
        row["epoch"] = row["due_at"] = until
    return row


_REPEAT_COLUMNS = ("occurrences", "last_seen", "recovered_at", "updated_at")
_MOVE_COLUMNS = ("status", "occurrences", "last_seen", "recovered_at", "acknowledged_at",
                 "resolved_at", "updated_at")


def _existing(row: Row[Any]) -> _Entry:
    # Unpacked by position: a thousand rows' named attribute lookups cost more than the query.
    (id_, key, status, priority, component, host, created_at, occurrences, last_seen, recovery,
     recovered_at, acknowledged_at, resolved_at) = row
    return _Entry(key=key, status=status, priority=priority, component=component, host=host,
                  created_at=created_at, occurrences=occurrences, last_seen=last_seen,
                  recovery=recovery, id=id_, read_status=status, recovered_at=recovered_at,
                  acknowledged_at=acknowledged_at, resolved_at=resolved_at)

def _outcome(key: str, entry: _Entry | None, result: Result) -> Outcome:
    if entry is None:
        return Outcome(key, None, result)
    return Outcome(key, entry.id, result, priority=entry.priority, component=entry.component,
                   opened_at=entry.created_at)

def _chunks(values: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
