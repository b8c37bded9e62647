"""Where every signal and report becomes a ticket: assessment, store, metrics, in one place.

Handlers and the embedded evaluator call this; it is the one function that decides priority
(`alerting.priority.assess` with the configured criticalities and matrix) for monitoring and
user tickets alike.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from alerting.inhibition import rule_index
from alerting.priority import (
    IMPACT_ORDER,
    USER_REPORTED,
    Assessment,
    ImpactSource,
    Matrix,
    assess,
)
from alerting.ticket import Action, Criticality, Signal, Urgency, UserReport
from collector.config import CriticalitySettings
from collector.metrics import CollectorMetrics
from collector.payloads.fields import BadPayload
from collector.store.refusal import may_be_one_request, refused_value
from collector.store.tickets import Outcome, Ticket, TicketStore

log = logging.getLogger("regie.collector.intake")

# Tickets opening and closing: the events an operator follows in the collector's log.
ticket_log = logging.getLogger("regie.collector.tickets")

# Most signals one transaction takes from the queue (requests are never split).
GROUP_MAX_SIGNALS = 5_000
# Outcomes after which a ticket's escalation has something to do.
_CHANGES = frozenset({"created", "resolved", "acknowledged"})
# Entries of each of the assessment memos (assess_signal).
_MEMO_ENTRIES = 10_000
# Outcomes that are logged and counted per ticket (repeats are only counted).
_LOGGED = frozenset({"created", "resolved", "acknowledged"})


def utcnow() -> datetime:
    return datetime.now(UTC)


class ValueRefused(BadPayload):
    """The database refused a value of this request (answered 400); nothing of it was stored."""


def _for_sender(exc: Exception) -> Exception:
    """What the request's handler raises: a refused value is the sender's to fix (a 4xx, so
    it is not retried forever), anything else the collector's (a 5xx)."""
    if not refused_value(exc):
        return exc
    refused = ValueRefused(f"body: a value the database cannot store "
                           f"({type(exc).__name__}); nothing of this request was stored")
    refused.__cause__ = exc
    return refused


class Intake:
    def __init__(self, tickets: TicketStore, *, criticality: CriticalitySettings,
                 matrix: Matrix, metrics: CollectorMetrics,
                 clock: Callable[[], datetime] = utcnow, writers: int = 1) -> None:
        self.tickets = tickets
        self._criticality = criticality
        self._matrix = matrix
        self._metrics = metrics
        self._clock = clock
        # (host, service) -> (criticality, rule); (that, urgency, systems, past end of
        # support) -> Assessment. Bounded: emptied when full (hosts come and go).
        self._explained: dict[tuple[str | None, str | None], tuple[Criticality, str]] = {}
        self._assessed: dict[tuple, Assessment] = {}
        # Group commit: batches that arrive while a transaction runs wait here and go into
        # the next one together, so N concurrent requests cost one transaction, not N.
        self._pending: collections.deque[tuple[Sequence[Signal], asyncio.Future]] = \
            collections.deque()
        # Up to `writers` group transactions at once (PostgreSQL: `[database]
        # intake_writers`; 1 on SQLite, whose writers are serial), over disjoint dedup keys:
        # `_in_flight` holds the keys of the groups running, and a group starts only when
        # none of its keys is among them (see _next_group).
        self.writers = writers
        self._writers: set[asyncio.Task] = set()
        self._in_flight: set[str] = set()
        # ... and the hosts of their triggers, and of those triggers that may inhibit others
        # (host-down, or a source of an inhibit rule): a group whose trigger may inhibit an
        # alert of a host waits for the groups running that host's triggers, and the other
        # way round, so an alert sees the host-down ticket opened just before it (one page).
        self._in_flight_hosts: collections.Counter[str] = collections.Counter()
        self._in_flight_inhibiting: collections.Counter[str] = collections.Counter()
        # Called after a commit that opened or moved tickets (the escalation loop's wake-up).
        self.on_change: Callable[[], None] | None = None
        # Whether a host is past end of support (the registry answers; an impact input).
        self.past_end_of_support: Callable[[str | None], bool] = lambda host: False

    def now(self) -> datetime:
        return self._clock()

    def assess_signal(self, signal: Signal, systems_affected: int) -> Assessment:
        # Remembered: a batch's new tickets share hosts, services and rules, and the settings
        # and matrix are fixed for the process. End of support is asked every time (the
        # registry's answer changes as it syncs); an Assessment is immutable, so shared.
        host, service = signal.host, signal.service
        explained = self._explained.get((host, service))
        if explained is None:
            if len(self._explained) >= _MEMO_ENTRIES:
                self._explained.clear()
            explained = self._criticality.explain(host=host, service=service)
            self._explained[host, service] = explained
        past_end_of_support = self.past_end_of_support(host)
        key = (explained, signal.urgency, systems_affected, past_end_of_support)
        assessment = self._assessed.get(key)
        if assessment is None:
            if len(self._assessed) >= _MEMO_ENTRIES:
                self._assessed.clear()
            criticality, rule = explained
            assessment = assess(
                criticality=criticality,
                urgency=signal.urgency,
                systems_affected=systems_affected,
                past_end_of_support=past_end_of_support,
                matrix=self._matrix,
                source=ImpactSource("system", rule),
            )
            self._assessed[key] = assessment
        return assessment

    def reassess(self, host: str | None, service: str | None, urgency: Urgency,
                 systems_affected: int) -> Assessment:
        """A ticket priced again (its correlation group grew): the same function and inputs
        as when it opened, with the systems now affected."""
        return assess(criticality=self._criticality.of(host=host, service=service),
                      urgency=urgency, systems_affected=systems_affected,
                      past_end_of_support=self.past_end_of_support(host),
                      matrix=self._matrix)

    async def signals(self, signals: Sequence[Signal]) -> list[Outcome]:
        """Apply a batch; returns one outcome per signal, in order, once it is committed."""
        if not signals:
            return []
        done = asyncio.get_running_loop().create_future()
        self._pending.append((signals, done))
        self._start_writer()
        outcomes = await done
        if self.on_change is not None and any(o.result in _CHANGES for o in outcomes):
            self.on_change()
        self._counted(signals, outcomes)
        return outcomes

    def _counted(self, signals: Sequence[Signal], outcomes: Sequence[Outcome]) -> None:
        """A request's metrics and the opened, resolved and acknowledged tickets' log lines.
        Counters are counted per distinct label set, one `inc(n)` each: a label lookup costs
        more than the rest of a repeat's bookkeeping here. Repeats are not logged."""
        counts = collections.Counter((s.origin, o.result) for s, o in zip(signals, outcomes,
                                                                           strict=True))
        for labels, count in counts.items():
            self._metrics.signals.labels(*labels).inc(count)
        if not any(result in _LOGGED for _, result in counts):
            return
        log = ticket_log.isEnabledFor(logging.INFO)
        now = self.now()
        created: collections.Counter = collections.Counter()
        resolved: collections.Counter = collections.Counter()
        for signal, outcome in zip(signals, outcomes, strict=True):
            if outcome.result == "created":
                created[outcome.priority, outcome.component or ""] += 1
                if log:
                    _ticket_line("ticket %s opened at %s from %s: %s", outcome.ticket_id,
                                 _value(outcome.priority), signal.origin, outcome.dedup_key)
            elif outcome.result == "resolved":
                resolved[outcome.priority, outcome.component or ""] += 1
                self._time_to_resolve(outcome.priority, outcome.opened_at, now)
                if log:
                    _ticket_line("ticket %s resolved by %s (recovered)", outcome.ticket_id,
                                 signal.origin)
            elif outcome.result == "acknowledged":
                # An Events API `acknowledge`: the same time to acknowledge as
                # `POST /api/v1/tickets/{id}/ack` observes.
                if outcome.opened_at is not None:
                    self._metrics.time_to_ack.labels(outcome.priority).observe(
                        max(0.0, (now - outcome.opened_at).total_seconds()))
                if log:
                    _ticket_line("ticket %s acknowledged by %s", outcome.ticket_id,
                                 signal.origin)
        for (priority, component), count in created.items():
            self._metrics.created.labels(priority, component, "monitoring").inc(count)
        for (priority, component), count in resolved.items():
            self._metrics.resolved.labels(priority, component).inc(count)

    def _start_writer(self) -> None:
        """Another writer task, if requests wait and fewer than `writers` run. It takes its
        group when it first runs, so the requests arriving until then join that group."""
        if self._pending and len(self._writers) < self.writers:
            task = asyncio.create_task(self._write_pending(), name="regie-intake")
            self._writers.add(task)
            # (Also when cancelled before it ran; otherwise _write_pending has left already.)
            task.add_done_callback(self._writers.discard)

    def _next_group(self) -> tuple[list[tuple[Sequence[Signal], asyncio.Future]],
                                   _Claim]:
        """The queued requests the next transaction takes, from the head of the queue, and
        what they claim: as many as fit in GROUP_MAX_SIGNALS, stopping at the first request
        that shares a key with a group still running (or, with several writers, whose
        triggers may inhibit alerts of a host that a group running has triggers for, or the
        other way round). Requests start in arrival order, and one that shares a key with an
        earlier request is in that request's transaction or starts after its commit: a
        resolve never overtakes its trigger. Empty when the head waits (the writer running
        its key takes it next)."""
        group: list[tuple[Sequence[Signal], asyncio.Future]] = []
        claim = _Claim(set(), set(), set())
        size = 0
        in_flight = self._in_flight
        while self._pending:
            signals = self._pending[0][0]
            if group and size + len(signals) > GROUP_MAX_SIGNALS:
                break
            request_keys = {signal.dedup_key for signal in signals}
            if in_flight and not in_flight.isdisjoint(request_keys):
                break
            if self.writers > 1:
                hosts, inhibiting = self._hosts(signals)
                if (not self._in_flight_hosts.keys().isdisjoint(inhibiting)
                        or not self._in_flight_inhibiting.keys().isdisjoint(hosts)):
                    break
                claim.hosts |= hosts
                claim.inhibiting |= inhibiting
            group.append(self._pending.popleft())
            claim.keys |= request_keys
            size += len(signals)
        return group, claim

    def _hosts(self, signals: Sequence[Signal]) -> tuple[set[str], set[str]]:
        """The hosts of these triggers, and of those that may inhibit others: host-down, or
        named as a source by an inhibit rule (alerting/inhibition.py)."""
        rules = rule_index(self.tickets.inhibit_rules)
        hosts: set[str] = set()
        inhibiting: set[str] = set()
        for signal in signals:
            if signal.action is not Action.TRIGGER or not signal.host:
                continue
            hosts.add(signal.host)
            if signal.host_down or (rules.rules and rules.may_be_source_named(
                    _alertname(signal))):
                inhibiting.add(signal.host)
        return hosts, inhibiting

    async def _write_pending(self) -> None:
        """Apply queued batches, as many as fit in one transaction at a time, until none wait
        (or the head of the queue waits for another writer's group)."""
        try:
            while self._pending:
                group, claim = self._next_group()
                if not group:
                    return
                self._in_flight |= claim.keys
                self._in_flight_hosts.update(claim.hosts)
                self._in_flight_inhibiting.update(claim.inhibiting)
                # The rest of the queue may go to another writer meanwhile.
                self._start_writer()
                try:
                    await self._write_group(group)
                finally:
                    self._in_flight -= claim.keys
                    # `-=` keeps positive counts only: keys() are the hosts still in flight.
                    self._in_flight_hosts -= collections.Counter(claim.hosts)
                    self._in_flight_inhibiting -= collections.Counter(claim.inhibiting)
        finally:
            # Not counted from here on, before any other request can look: a done callback
            # would only run later, and a request queued meanwhile would find no writer.
            self._writers.discard(asyncio.current_task())

    async def _write_group(self, group: list[tuple[Sequence[Signal], asyncio.Future]]) -> None:
        """One group in one transaction; every request learns its outcomes or its error."""
        batch = [signal for signals, _ in group for signal in signals]
        try:
            outcomes = await self.tickets.apply_signals(batch, now=self.now(),
                                                        assess=self.assess_signal)
        except Exception as exc:
            if len(group) > 1 and may_be_one_request(exc):
                # One sender's value must not keep every other sender's alerts out
                # (they would retry, and fail with it again): each request on its own.
                log.warning("a group of %d requests failed (%s); applying each alone",
                            len(group), type(exc).__name__)
                await self._write_each(group)
            else:  # every request of the group learns it was not committed
                for _, done in group:
                    if not done.done():
                        done.set_exception(_for_sender(exc))
            return
        start = 0
        for signals, done in group:
            if not done.done():
                done.set_result(outcomes[start:start + len(signals)])
            start += len(signals)

    async def _write_each(self, group: list[tuple[Sequence[Signal], asyncio.Future]]) -> None:
        """The requests of a failed group, each in its own transaction, in arrival order."""
        for signals, done in group:
            try:
                outcomes = await self.tickets.apply_signals(signals, now=self.now(),
                                                            assess=self.assess_signal)
            except Exception as exc:
                if not done.done():
                    done.set_exception(_for_sender(exc))
            else:
                if not done.done():
                    done.set_result(outcomes)

    async def report(self, report: UserReport) -> Ticket:
        """A person's report: impact is the worse of their view and the system's criticality."""
        criticality, source = report.impact, USER_REPORTED
        if report.host or report.service:
            system, rule = self._criticality.explain(host=report.host, service=report.service)
            if IMPACT_ORDER.index(system) < IMPACT_ORDER.index(criticality):
                criticality, source = system, ImpactSource("system", rule)
        assessment = assess(criticality=criticality, urgency=report.urgency,
                            past_end_of_support=self.past_end_of_support(report.host),
                            matrix=self._matrix, source=source)
        ticket = await self.tickets.create_user_ticket(report, assessment=assessment,
                                                       now=self.now())
        self._metrics.created.labels(ticket.priority, ticket.component or "", "user").inc()
        ticket_log.info("ticket %d opened at %s, reported by %s", ticket.id,
                        ticket.priority.value, report.reporter)
        if self.on_change is not None:
            self.on_change()
        return ticket

    def acknowledged(self, ticket: Ticket) -> None:
        if ticket.acknowledged_at:
            self._metrics.time_to_ack.labels(ticket.priority).observe(
                max(0.0, (ticket.acknowledged_at - ticket.created_at).total_seconds()))

    def resolved(self, priority, component: str | None, opened_at: datetime | None) -> None:
        self._metrics.resolved.labels(priority, component or "").inc()
        self._time_to_resolve(priority, opened_at, self.now())

    def _time_to_resolve(self, priority, opened_at: datetime | None, now: datetime) -> None:
        if opened_at is not None:
            self._metrics.time_to_resolve.labels(priority).observe(
                max(0.0, (now - opened_at).total_seconds()))


@dataclass(slots=True)
class _Claim:
    """What a group in flight holds: its dedup keys, its triggers' hosts, and the hosts of
    those triggers that may inhibit others."""

    keys: set[str]
    hosts: set[str]
    inhibiting: set[str]


def _alertname(signal: Signal) -> str:
    """The alert's name as inhibit rules see it (alerting.inhibition.alert_labels)."""
    labels = signal.details.get("labels")
    if isinstance(labels, dict) and "alertname" in labels:
        return str(labels["alertname"])
    rule = signal.details.get("rule")
    return rule if isinstance(rule, str) else ""


def _ticket_line(msg: str, *args: object) -> None:
    """One INFO line of `ticket_log` (the caller has checked that INFO is on), handed to its
    handlers as `Logger.info` would, without looking up the caller's file and line (a walk
    over the stack, about a fifth of a line's cost): a request opening 50 tickets logs 50
    lines. The log format (regie/log_format.py) names no file or line."""
    ticket_log.handle(ticket_log.makeRecord(ticket_log.name, logging.INFO, __file__, 0, msg,
                                            args, None, "signals"))


def _value(priority) -> str:
    return getattr(priority, "value", str(priority))
