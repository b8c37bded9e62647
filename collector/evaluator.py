"""The embedded evaluator: threshold rules over the agents' /metrics, without Prometheus.

Every `interval_seconds` it scrapes all targets concurrently (each with its own timeout),
parses the text exposition with prometheus_client's parser, steps the pure
`alerting.rules.Evaluation` and hands the resulting signals to `ingest`. A target whose scrape
fails (refused, timed out, not 200, unparsable) counts as down for that round: its alert states
are kept and only the host-down rule (`up == 0`) runs for it (alerting/rules.py).

The state advances only after `ingest` succeeded, so a signal the store could not take is
produced again in the next round instead of being lost. `run()` logs a failed round and goes
on; only cancellation ends it. `now` comes from the injected `clock`, so tests drive `for`
durations without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from alerting.rules import Evaluation, Rule, Sample
from alerting.ticket import Signal

log = logging.getLogger("regie.collector.evaluator")

# Prometheus's own scrape Accept header would get OpenMetrics; the classic text format is
# what prometheus_client's text parser reads.
ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class EvaluatorTarget:
    """An agent to scrape: ``HOST:PORT`` (or a full URL) and the host name tickets carry."""

    address: str
    host: str
    scheme: str = "http"

    @property
    def url(self) -> str:
        if "://" in self.address:
            base = self.address.rstrip("/")
            return base if base.split("://", 1)[1].count("/") else f"{base}/metrics"
        return f"{self.scheme}://{self.address}/metrics"


@dataclass(slots=True)
class EvaluatorStats:
    """Counters for the collector's own /metrics (plain numbers; exposing them is its job)."""

    rounds_total: int = 0
    round_failures_total: int = 0
    signals_total: int = 0
    scrape_failures_total: dict[str, int] = field(default_factory=dict)   # by host
    up: dict[str, bool] = field(default_factory=dict)                     # last round, by host
    last_round_seconds: float = 0.0


class ScrapeError(Exception):
    pass


class Evaluator:
    def __init__(self, targets: Sequence[EvaluatorTarget], rules: Sequence[Rule], *,
                 interval_seconds: float,
                 ingest: Callable[[list[Signal]], Awaitable[None]],
                 session: aiohttp.ClientSession,
                 scrape_timeout_seconds: float = 5.0,
                 clock: Callable[[], datetime] = utc_now) -> None:
        if interval_seconds <= 0 or scrape_timeout_seconds <= 0:
            raise ValueError("interval_seconds and scrape_timeout_seconds must be positive")
        self._targets: tuple[EvaluatorTarget, ...] = ()
        self.set_targets(targets)
        self._state = Evaluation(tuple(rules))
        self._interval = interval_seconds
        self._timeout = aiohttp.ClientTimeout(total=scrape_timeout_seconds)
        self._ingest = ingest
        self._session = session
        self._clock = clock
        self._lock = asyncio.Lock()
        self._failing: set[str] = set()    # hosts whose failure was logged: once per streak
        self.stats = EvaluatorStats()

    @property
    def targets(self) -> tuple[EvaluatorTarget, ...]:
        return self._targets

    @property
    def state(self) -> Evaluation:
        return self._state

    def set_targets(self, targets: Sequence[EvaluatorTarget]) -> None:
        """Replace the scraped targets (agents registered or removed); states are kept."""
        hosts = [t.host for t in targets]
        duplicates = sorted({h for h in hosts if hosts.count(h) > 1})
        if duplicates:
            raise ValueError(f"more than one target for host(s) {', '.join(duplicates)}")
        self._targets = tuple(targets)

    async def evaluate_once(self) -> list[Signal]:
        """Scrape every target, evaluate the rules, ingest and return the new signals."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            started = loop.time()
            targets = self._targets
            results = await asyncio.gather(*(self._scrape(t) for t in targets))
            now = self._clock()
            samples: dict[str, Sequence[Sample]] = {}
            up: dict[str, bool] = {}
            for target, result in zip(targets, results, strict=True):
                up[target.host] = result is not None
                if result is not None:
                    samples[target.host] = result
            signals, state = self._state.step(samples, now=now, up=up)
            if signals:
                await self._ingest(signals)
            self._state = state
            self.stats.rounds_total += 1
            self.stats.signals_total += len(signals)
            self.stats.up = up
            self.stats.last_round_seconds = loop.time() - started
            return signals

    async def run(self) -> None:
        """Evaluate every interval until cancelled; a failed round is logged, never fatal."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.evaluate_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.stats.round_failures_total += 1
                log.exception("evaluation round failed; retrying in %gs", self._interval)
            await asyncio.sleep(max(0.0, self._interval - (loop.time() - started)))

    async def _scrape(self, target: EvaluatorTarget) -> list[Sample] | None:
        try:
            samples = await self._fetch(target)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure means "down this round", whatever its kind
            failures = self.stats.scrape_failures_total
            failures[target.host] = failures.get(target.host, 0) + 1
            if target.host not in self._failing:
                self._failing.add(target.host)
                log.warning("scrape of %s (%s) failed: %s", target.host, target.url,
                            _describe(exc))
            return None
        if target.host in self._failing:
            self._failing.discard(target.host)
            log.info("scrape of %s (%s) works again", target.host, target.url)
        return samples

    async def _fetch(self, target: EvaluatorTarget) -> list[Sample]:
        async with self._session.get(target.url, timeout=self._timeout,
                                     headers={"Accept": ACCEPT}) as response:
            if response.status != 200:
                raise ScrapeError(f"HTTP {response.status}")
            text = await response.text(errors="replace")
        return parse_exposition(text)


def parse_exposition(text: str) -> list[Sample]:
    """Samples from the Prometheus text format (raises ValueError on malformed input)."""
    return [
        Sample(name=s.name, labels=dict(s.labels), value=float(s.value))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
