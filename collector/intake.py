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
from datetime import UTC, datetime

from alerting.priority import (
    IMPACT_ORDER,
    USER_REPORTED,
    Assessment,
    ImpactSource,
    Matrix,
    assess,
)
from alerting.ticket import Signal, Urgency, UserReport
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
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.tickets = tickets
        self._criticality = criticality
        self._matrix = matrix
        self._metrics = metrics
        self._clock = clock
        # Group commit: batches that arrive while a transaction runs wait here and go into
        # the next one together, so N concurrent requests cost one transaction, not N.
        self._pending: collections.deque[tuple[Sequence[Signal], asyncio.Future]] = \
            collections.deque()
        self._writer: asyncio.Task | None = None
        # Called after a commit that opened or moved tickets (the escalation loop's wake-up).
        self.on_change: Callable[[], None] | None = None
        # Whether a host is past end of support (the registry answers; an impact input).
        self.past_end_of_support: Callable[[str | None], bool] = lambda host: False

    def now(self) -> datetime:
        return self._clock()

    def assess_signal(self, signal: Signal, systems_affected: int) -> Assessment:
        criticality, rule = self._criticality.explain(host=signal.host, service=signal.service)
        return assess(
            criticality=criticality,
            urgency=signal.urgency,
            systems_affected=systems_affected,
            past_end_of_support=self.past_end_of_support(signal.host),
            matrix=self._matrix,
            source=ImpactSource("system", rule),
        )

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
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending(), name="regie-intake")
        outcomes = await done
        if self.on_change is not None and any(o.result in _CHANGES for o in outcomes):
            self.on_change()
        # Counted per distinct label set, not per signal: a label lookup costs more than
        # the rest of a repeat's bookkeeping here.
        counts = collections.Counter((s.origin, o.result) for s, o in zip(signals, outcomes,
                                                                           strict=True))
        for labels, count in counts.items():
            self._metrics.signals.labels(*labels).inc(count)
        for signal, outcome in zip(signals, outcomes, strict=True):
            if outcome.result == "created":
                self._metrics.created.labels(outcome.priority, outcome.component or "",
                                             "monitoring").inc()
                ticket_log.info("ticket %s opened at %s from %s: %s", outcome.ticket_id,
                                _value(outcome.priority), signal.origin, outcome.dedup_key)
            elif outcome.result == "resolved":
                self.resolved(outcome.priority, outcome.component, outcome.opened_at)
                ticket_log.info("ticket %s resolved by %s (recovered)", outcome.ticket_id,
                                signal.origin)
        return outcomes

    async def _write_pending(self) -> None:
        """Apply queued batches, as many as fit in one transaction at a time, until none wait."""
        while self._pending:
            group = [self._pending.popleft()]
            size = len(group[0][0])
            while self._pending and size + len(self._pending[0][0]) <= GROUP_MAX_SIGNALS:
                group.append(self._pending.popleft())
                size += len(group[-1][0])
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
                continue
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
        if opened_at is not None:
            self._metrics.time_to_resolve.labels(priority).observe(
                max(0.0, (self.now() - opened_at).total_seconds()))


def _value(priority) -> str:
    return getattr(priority, "value", str(priority))
