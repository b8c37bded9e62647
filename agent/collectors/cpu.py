"""CPU time per mode and utilisation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import psutil
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

_IDLE_MODES = frozenset({"idle", "iowait"})
# guest/guest_nice are already counted in user/nice (proc(5)); exposing them would double-count.
_SKIP_MODES = frozenset({"guest", "guest_nice"})


class CpuCollector:
    """`regie_cpu_seconds_total{mode}` summed over CPUs, and utilisation as a gauge.

    Utilisation is the busy share of CPU time between two samples at least
    `min_window_seconds` apart, so a threshold can be evaluated from a single scrape (the
    embedded evaluator has no rate()). Scrapes closer together than that reuse the last value.
    """

    name = "cpu"

    def __init__(self, min_window_seconds: float = 1.0, clock=time.monotonic) -> None:
        self._min_window = min_window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._last: tuple[float, float, float] | None = None  # (when, busy, total)
        self._utilisation: float | None = None

    def collect(self) -> Iterable[Metric]:
        times = psutil.cpu_times()._asdict()
        seconds = CounterMetricFamily(
            "regie_cpu_seconds", "CPU time spent in each mode, summed over all CPUs.",
            labels=["mode"],
        )
        total = busy = 0.0
        for mode, value in times.items():
            if mode in _SKIP_MODES:
                continue
            seconds.add_metric([mode], value)
            total += value
            if mode not in _IDLE_MODES:
                busy += value
        yield seconds
        yield GaugeMetricFamily("regie_cpus_online", "Logical CPUs online.",
                                value=psutil.cpu_count() or 0)
        yield GaugeMetricFamily(
            "regie_cpu_utilisation_ratio",
            "Share of CPU time not idle or waiting for I/O since the previous sample (0-1).",
            value=self._update(busy, total),
        )

    def _update(self, busy: float, total: float) -> float:
        now = self._clock()
        with self._lock:
            if self._last is None:
                # First sample: average since boot, better than nothing.
                self._utilisation = busy / total if total else 0.0
                self._last = (now, busy, total)
            elif now - self._last[0] >= self._min_window:
                d_total = total - self._last[2]
                d_busy = busy - self._last[1]
                if d_total > 0:
                    self._utilisation = min(1.0, max(0.0, d_busy / d_total))
                self._last = (now, busy, total)
            return self._utilisation or 0.0
