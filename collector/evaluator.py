"""The embedded evaluator: threshold rules over the agents' /metrics, without Prometheus.

Every `interval_seconds` it scrapes all targets concurrently (each with its own timeout),
parses the text exposition with prometheus_client's parser, steps the pure
`alerting.rules.Evaluation` and hands the resulting signals to `ingest`. A target whose scrape
fails (refused, timed out, not 200, unparsable, a body over `body_size_limit_bytes`) counts as
down for that round: its alert states are kept and only the host-down rule (`up == 0`) runs for
it (alerting/rules.py).

Bodies are read up to `body_size_limit_bytes` (16 MiB by default), counted after any
Content-Encoding is undone, as Prometheus's `body_size_limit`: one target must not take the
collector's memory. They are parsed in a worker thread, always: the parser costs about 350 ns
a byte (~1 ms for an agent's 2 KB of 50 series, ~85 ms for 250 KB, seconds for megabytes),
the thread hop about 0.1 ms, and the event loop serves the API meanwhile.

A series whose labels no database can hold (NUL, invalid UTF-8 or a lone surrogate, or labels
too long for a ticket's dedup key, which PostgreSQL indexes) is dropped at parsing and counted
by host and reason: stored, it would fail the whole round's transaction, every round. Signals
are handed to `ingest` one host at a time (all in one group commit of the intake, which
applies them again one by one when a value is refused), so should a host's signals still be
refused, only that host's alerts wait for the next round.

The state advances only after `ingest` succeeded, so a signal the store could not take is
produced again in the next round instead of being lost. `run()` logs a failed round and goes
on; only cancellation ends it. `now` comes from the injected `clock`, so tests drive `for`
durations without sleeping.

Durability and election: the firing alerts are the evaluator's active tickets, so `run()`
resumes from them (`resume()`, alerting.rules.resumed) when it starts leading: a condition that
ended while no collector evaluated resolves its ticket at the first round. Of several
collectors on one PostgreSQL database only the one holding the evaluator lock
(collector/leadership.py) scrapes and evaluates; the others check every interval whether the
lock came free, and resume from the tickets when they take it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import aiohttp
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families

from alerting.rules import Evaluation, Rule, Sample, resumed
from alerting.ticket import Signal
from collector.failure_streak import FailureStreak
from collector.leadership import Leadership, SoleLeader

log = logging.getLogger("regie.collector.evaluator")

# Prometheus's own scrape Accept header would get OpenMetrics; the classic text format is
# what prometheus_client's text parser reads.
ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
# A scrape body larger than this (uncompressed) fails the scrape ([evaluator] setting).
DEFAULT_BODY_SIZE_LIMIT_BYTES = 16 * 1024 * 1024
# Bound on reading the evaluator's active tickets when it starts leading (retried next round).
RESUME_TIMEOUT_SECONDS = 30.0
# A series' labels as its dedup key spells them (`k=v,k=v`), in UTF-8 bytes. The key is in a
# unique btree index, whose entries PostgreSQL caps at 2,704 bytes (SQLSTATE 54000 beyond,
# failing the whole transaction); this leaves room for the rule and host names around them.
MAX_LABEL_BYTES = 1024
# Why a scraped series was dropped: the reasons of regie_evaluator_samples_dropped_total.
INVALID_CHARACTER = "invalid_character"
TOO_LONG = "too_long"
DROP_REASONS = (INVALID_CHARACTER, TOO_LONG)
# A line of the exposition longer than this is dropped before parsing (a sample line counted
# as too_long). prometheus_client's parser takes time quadratic in a line's labels: one line
# of 200,000 labels (2.3 MB) took 13 s, one filling the 16 MiB body limit some 12 minutes of
# a worker thread, while the round (every target's alerts) waited for it. A storable series'
# labels are at most MAX_LABEL_BYTES as its dedup key spells them, so no series a ticket
# could carry is longer than this; 16 MiB of lines this long parse in about 6 s.
MAX_LINE_BYTES = 64 * 1024
# NUL (PostgreSQL stores it in no text) and surrogates: lone ones have no UTF-8 encoding, and
# the body is decoded with "surrogateescape", so its invalid UTF-8 bytes become these too.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


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
    samples_dropped_total: Counter[tuple[str, str]] = field(default_factory=Counter)  # host, why
    up: dict[str, bool] = field(default_factory=dict)                     # last round, by host
    last_round_seconds: float = 0.0
    leader: bool = False                  # whether this process evaluates (collector/leadership)


class ScrapeError(Exception):
    pass


class IngestRefused(Exception):
    """Some hosts' signals were not stored this round; the other hosts' were."""


class Evaluator:
    def __init__(self, targets: Sequence[EvaluatorTarget], rules: Sequence[Rule], *,
                 interval_seconds: float,
                 ingest: Callable[[list[Signal]], Awaitable[None]],
                 session: aiohttp.ClientSession,
                 scrape_timeout_seconds: float = 5.0,
                 body_size_limit_bytes: int = DEFAULT_BODY_SIZE_LIMIT_BYTES,
                 clock: Callable[[], datetime] = utc_now,
                 active_tickets: Callable[[], Awaitable[Iterable[ActiveTicket]]] | None = None,
                 leadership: Leadership | None = None) -> None:
        if interval_seconds <= 0 or scrape_timeout_seconds <= 0 or body_size_limit_bytes <= 0:
            raise ValueError("interval_seconds, scrape_timeout_seconds and "
                             "body_size_limit_bytes must be positive")
        self._targets: tuple[EvaluatorTarget, ...] = ()
        self.set_targets(targets)
        self._state = Evaluation(tuple(rules))
        self._interval = interval_seconds
        self._timeout = aiohttp.ClientTimeout(total=scrape_timeout_seconds)
        self._body_limit = body_size_limit_bytes
        self._ingest = ingest
        self._session = session
        self._clock = clock
        self._lock = asyncio.Lock()
        self._failing: set[str] = set()    # hosts whose failure was logged: once per streak
        self._dropping: set[str] = set()   # hosts whose dropped series were logged: the same
        self._active_tickets = active_tickets
        self._leadership = leadership or SoleLeader()
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
            refused, stored = await self._ingest_by_host(signals)
            # The refused hosts' alerts stay as they were (their signals come again next
            # round); every other host's advance, or their `for` would never elapse.
            self._state = _keeping(state, self._state, refused) if refused else state
            self.stats.up = up
            self.stats.last_round_seconds = loop.time() - started
            self.stats.signals_total += stored
            if refused and not stored:
                # Nothing was stored (the database is away, most likely): its own error.
                raise next(iter(refused.values()))
            if refused:
                host, exc = next(iter(refused.items()))
                raise IngestRefused(f"signals of {len(refused)} host(s) not stored, {host}'s: "
                                    f"{_describe(exc)}") from exc
            self.stats.rounds_total += 1
            return signals

    async def _ingest_by_host(self, signals: Sequence[Signal]
                              ) -> tuple[dict[str, BaseException], int]:
        """Each host's signals as a request of its own: (refused hosts, signals stored)."""
        by_host: dict[str, list[Signal]] = {}
        for signal in signals:
            by_host.setdefault(signal.host or "", []).append(signal)
        results = await asyncio.gather(*map(self._ingest, by_host.values()),
                                       return_exceptions=True)
        refused = {host: result for host, result in zip(by_host, results, strict=True)
                   if isinstance(result, BaseException)}
        if any(isinstance(exc, asyncio.CancelledError) for exc in refused.values()):
            raise asyncio.CancelledError
        return refused, sum(len(g) for host, g in by_host.items() if host not in refused)

    async def resume(self) -> None:
        """Continue from the evaluator's active tickets (see the module's docstring)."""
        if self._active_tickets is None:
            return
        async with asyncio.timeout(RESUME_TIMEOUT_SECONDS):
            tickets = list(await self._active_tickets())
        async with self._lock:
            self._state = resumed(self._state.rules, tickets)
        log.info("resumed %d firing alert(s) from their tickets", len(self._state.alerts))

    async def lead(self) -> bool:
        """Whether this process evaluates this round; resumes when it has just become leader,
        forgets its states when it has just stopped leading (the next leader resumes)."""
        leading = await self._leadership.hold()
        if leading and not self.stats.leader:
            await self.resume()
            log.info("this collector runs the embedded evaluator")
        elif not leading and self.stats.leader:
            async with self._lock:
                self._state = Evaluation(self._state.rules)
            log.warning("this collector no longer runs the embedded evaluator")
        self.stats.leader = leading
        return leading

    async def run(self) -> None:
        """Evaluate every interval until cancelled; a failed round is logged, never fatal."""
        loop = asyncio.get_running_loop()
        # A database outage fails every round: logged when it starts and when it ends.
        failures = FailureStreak("evaluation round", log)
        try:
            while True:
                started = loop.time()
                try:
                    if await self.lead():
                        await self.evaluate_once()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.stats.round_failures_total += 1
                    failures.failed(exc)
                else:
                    failures.succeeded()
                await asyncio.sleep(max(0.0, self._interval - (loop.time() - started)))
        finally:
            self.stats.leader = False
            await asyncio.shield(self._leadership.release())

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
            body = await self._read(response)
        dropped: Counter[str] = Counter()
        samples = await asyncio.to_thread(parse_body, body, dropped)
        self._count_dropped(target, dropped)
        return samples

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        """The body, or ScrapeError as soon as it is over the limit (not after reading it)."""
        limit = self._body_limit
        too_large = ScrapeError(f"body larger than {limit} bytes "
                                f"([evaluator] body_size_limit_bytes)")
        # The declared length counts compressed bytes; only an unencoded one is the body's.
        declared = response.content_length
        if (declared is not None and declared > limit
                and response.headers.get("Content-Encoding", "identity") == "identity"):
            raise too_large
        body = bytearray()
        async for chunk in response.content.iter_any():   # decompressed by aiohttp
            body += chunk
            if len(body) > limit:
                raise too_large
        return bytes(body)

    def _count_dropped(self, target: EvaluatorTarget, dropped: Counter[str]) -> None:
        for reason, count in dropped.items():
            self.stats.samples_dropped_total[(target.host, reason)] += count
        if dropped and target.host not in self._dropping:
            self._dropping.add(target.host)
            # Counts only: the label values themselves may hold anything, NUL included.
            log.warning("dropped series of %s (%s) whose labels no database can hold (%s); "
                        "counted in regie_evaluator_samples_dropped_total while it lasts",
                        target.host, target.url,
                        ", ".join(f"{n} {reason}" for reason, n in sorted(dropped.items())))
        elif not dropped and target.host in self._dropping:
            self._dropping.discard(target.host)
            log.info("scrape of %s (%s) has no series to drop any more", target.host, target.url)


# (dedup_key, host, details) of one of the evaluator's active tickets.
ActiveTicket = tuple[str, str | None, Mapping[str, Any]]


class EvaluatorMetrics:
    """The evaluator's part of the collector's /metrics (registered by the app)."""

    def __init__(self, evaluator: Evaluator) -> None:
        self._evaluator = evaluator

    def collect(self) -> Iterable[Metric]:
        stats = self._evaluator.stats
        leader = GaugeMetricFamily(
            "regie_evaluator_leader",
            "1 when this collector runs the embedded evaluator (holds the evaluator lock on "
            "PostgreSQL), 0 when another one does.")
        leader.add_metric([], 1.0 if stats.leader else 0.0)
        rounds = CounterMetricFamily(
            "regie_evaluator_rounds", "Evaluation rounds this collector ran (scrapes of every "
            "target, then the rules).")
        rounds.add_metric([], stats.rounds_total)
        failures = CounterMetricFamily(
            "regie_evaluator_scrape_failures", "Failed scrapes of an agent by the embedded "
            "evaluator, by target host.", labels=["host"])
        # Every target from the start (a series that appears only at its first failure
        # cannot be rated), and hosts that failed before their target was removed.
        counts = stats.scrape_failures_total
        for host in sorted({t.host for t in self._evaluator.targets} | set(counts)):
            failures.add_metric([host], counts.get(host, 0))
        dropped = CounterMetricFamily(
            "regie_evaluator_samples_dropped", "Scraped series the embedded evaluator dropped "
            "because no database could hold their labels, by target host and reason.",
            labels=["host", "reason"])
        drops = stats.samples_dropped_total
        for host in sorted({t.host for t in self._evaluator.targets} | {h for h, _ in drops}):
            for reason in DROP_REASONS:
                dropped.add_metric([host, reason], drops.get((host, reason), 0))
        yield from (leader, rounds, failures, dropped)


def parse_body(body: bytes, dropped: Counter[str]) -> list[Sample]:
    """`parse_exposition` of a scraped body (run in a worker thread). The text format is UTF-8
    whatever the header says; invalid bytes become lone surrogates, which drop their series
    (and only it). Lines over MAX_LINE_BYTES are left out first (sample lines counted)."""
    lines = body.split(b"\n")
    if max(map(len, lines), default=0) > MAX_LINE_BYTES:
        kept = []
        for line in lines:
            if len(line) <= MAX_LINE_BYTES:
                kept.append(line)
            elif not line.lstrip().startswith(b"#"):   # a long comment only loses its text
                dropped[TOO_LONG] += 1
        body = b"\n".join(kept)
    return parse_exposition(body.decode("utf-8", errors="surrogateescape"), dropped=dropped)


def parse_exposition(text: str, *, dropped: Counter[str] | None = None) -> list[Sample]:
    """Samples from the Prometheus text format (raises ValueError on malformed input).

    Series no database can hold are left out, each counted in `dropped` by its reason."""
    samples = []
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            reason = unstorable(s.name, s.labels)
            if reason is None:
                samples.append(Sample(name=s.name, labels=dict(s.labels), value=float(s.value)))
            elif dropped is not None:
                dropped[reason] += 1
    return samples


def unstorable(name: str, labels: Mapping[str, str]) -> str | None:
    """Why a series could not be stored in a ticket (a DROP_REASONS item), or None."""
    spelled = ",".join(f"{k}={v}" for k, v in labels.items())
    if _UNSTORABLE.search(name) or _UNSTORABLE.search(spelled):
        return INVALID_CHARACTER
    # Characters first (cheap), bytes only when they may be over: UTF-8 takes up to 4 each.
    if len(spelled) * 4 > MAX_LABEL_BYTES and len(spelled.encode()) > MAX_LABEL_BYTES:
        return TOO_LONG
    return None


def _keeping(new: Evaluation, old: Evaluation, hosts: Iterable[str]) -> Evaluation:
    """`new`, but with `old`'s alert states for `hosts` (whose signals were not stored)."""
    kept = set(hosts)
    alerts = {key: state for key, state in new.alerts.items() if key[1] not in kept}
    alerts.update((key, state) for key, state in old.alerts.items() if key[1] in kept)
    return replace(new, alerts=MappingProxyType(alerts))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
