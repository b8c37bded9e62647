"""Where every signal and report becomes a ticket: assessment, store, metrics, in one place.

Handlers and the embedded evaluator call this; it is the one function that decides priority
(`alerting.priority.assess` with the configured criticalities and matrix) for monitoring and
user tickets alike.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from alerting.priority import IMPACT_ORDER, Assessment, Matrix, assess
from alerting.ticket import Signal, Urgency, UserReport
from collector.config import CriticalitySettings
from collector.metrics import CollectorMetrics
from collector.store.tickets import Outcome, Ticket, TicketStore

# Most signals one transaction takes from the queue (requests are never split).
GROUP_MAX_SIGNALS = 5_000
# Outcomes after which a ticket's escalation has something to do.
_CHANGES = frozenset({"created", "resolved", "acknowledged"})


def utcnow() -> datetime:
    return datetime.now(UTC)


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
        return assess(
            criticality=self._criticality.of(host=signal.host, service=signal.service),
            urgency=signal.urgency,
            systems_affected=systems_affected,
            past_end_of_support=self.past_end_of_support(signal.host),
            matrix=self._matrix,
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
        for signal, outcome in zip(signals, outcomes, strict=True):
            self._metrics.signals.labels(signal.origin, outcome.result).inc()
            if outcome.result == "created":
                self._metrics.created.labels(outcome.priority, outcome.component or "",
                                             "monitoring").inc()
            elif outcome.result == "resolved":
                self.resolved(outcome.priority, outcome.component, outcome.opened_at)
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
            except Exception as exc:  # every request of the group learns it was not committed
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)
                continue
            start = 0
            for signals, done in group:
                if not done.done():
                    done.set_result(outcomes[start:start + len(signals)])
                start += len(signals)

    async def report(self, report: UserReport) -> Ticket:
        """A person's report: impact is the worse of their view and the system's criticality."""
        criticality = report.impact
        if report.host or report.service:
            system = self._criticality.of(host=report.host, service=report.service)
            criticality = min(criticality, system, key=IMPACT_ORDER.index)
        assessment = assess(criticality=criticality, urgency=report.urgency,
                            past_end_of_support=self.past_end_of_support(report.host),
                            matrix=self._matrix)
        ticket = await self.tickets.create_user_ticket(report, assessment=assessment,
                                                       now=self.now())
        self._metrics.created.labels(ticket.priority, ticket.component or "", "user").inc()
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
