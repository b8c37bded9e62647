"""The agent's metric registry: health collectors wrapped so one failure drops only its own metrics.

`HealthMetrics.collect()` runs every collector, times it, and yields its families only when the
whole collector succeeded (a half-built set of series would be worse than none), then
`regie_agent_collector_duration_seconds{collector}` and `regie_agent_collector_success{collector}`.
"""

from __future__ import annotations

import logging
import platform
import threading
import time
from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from agent.collectors import HealthCollector
from agent.http_stats import HttpStats
from regie import __version__

log = logging.getLogger(__name__)


class HealthMetrics:
    def __init__(self, collectors: Sequence[HealthCollector], clock=time.perf_counter) -> None:
        self._collectors = list(collectors)
        self._clock = clock
        self._failing: set[str] = set()
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self._collectors]

    def collect(self) -> Iterable[Metric]:
        duration = GaugeMetricFamily(
            "regie_agent_collector_duration_seconds",
            "Time the collector took in this scrape.", labels=["collector"],
        )
        success = GaugeMetricFamily(
            "regie_agent_collector_success",
            "1 when the collector succeeded in this scrape, 0 when its metrics were dropped.",
            labels=["collector"],
        )
        for collector in self._collectors:
            start = self._clock()
            try:
                families = list(collector.collect())
            except Exception as exc:  # one collector must never cost the scrape
                families = None
                self._note_failure(collector.name, exc)
            else:
                self._note_success(collector.name)
            duration.add_metric([collector.name], self._clock() - start)
            success.add_metric([collector.name], 0 if families is None else 1)
            if families:
                yield from families
        yield duration
        yield success

    def _note_failure(self, name: str, exc: Exception) -> None:
        # Log the first failure of a streak, not every scrape.
        with self._lock:
            first = name not in self._failing
            self._failing.add(name)
        if first:
            log.warning("collector %s failed, its metrics are dropped: %s: %s",
                        name, type(exc).__name__, exc)

    def _note_success(self, name: str) -> None:
        with self._lock:
            if name in self._failing:
                self._failing.discard(name)
                log.info("collector %s recovered", name)


class BuildInfo:
    def collect(self) -> Iterable[Metric]:
        info = InfoMetricFamily("regie_agent_build", "Regie agent version and Python runtime.")
        info.add_metric([], {"version": __version__,
                             "python_version": platform.python_version()})
        yield info


def build_registry(health: HealthMetrics, extra: Sequence[Collector] = (),
                   http: HttpStats | None = None) -> CollectorRegistry:
    """An explicit registry (never prometheus_client's global one). `http` is the metrics
    server's own record (connections, shared scrapes); the server is given the same object."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BuildInfo())
    registry.register(health)
    registry.register(http if http is not None else HttpStats())
    # The agent's own CPU, memory and file descriptors as process_* (the usual exporter names).
    ProcessCollector(registry=registry)
    for collector in extra:
        registry.register(collector)
    return registry
