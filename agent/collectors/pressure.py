"""Pressure stall information (PSI, Linux 4.20+): time tasks waited for CPU, memory or I/O.

/proc/pressure/{cpu,memory,io} hold two lines each::

    some avg10=0.00 avg60=0.00 avg300=0.00 total=12345
    full avg10=0.00 avg60=0.00 avg300=0.00 total=6789

`total` is microseconds: `some` is time at least one task stalled, `full` time all non-idle
tasks stalled at once. As node_exporter's `pressure` collector: `waiting` is `some`, `stalled`
is `full` (CPU's `full` line is not exposed: it is undefined at the system level). A kernel
without PSI (or booted with psi=0) has no such files: the families are then empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prometheus_client.metrics_core import CounterMetricFamily, Metric

RESOURCES = ("cpu", "memory", "io")


def parse_pressure(text: str) -> dict[str, float]:
    """{"some": seconds, "full": seconds} from one /proc/pressure file."""
    totals = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        for field in rest.split():
            key, _, value = field.partition("=")
            if key == "total":
                totals[kind] = int(value) / 1e6
    return totals


class PressureCollector:
    name = "pressure"

    def __init__(self, procfs: Path = Path("/proc")) -> None:
        self._dir = procfs / "pressure"

    def collect(self) -> Iterable[Metric]:
        waiting = CounterMetricFamily(
            "regie_pressure_waiting_seconds",
            "Time at least one task waited for the resource (PSI 'some').", labels=["resource"])
        stalled = CounterMetricFamily(
            "regie_pressure_stalled_seconds",
            "Time all non-idle tasks stalled on the resource at once (PSI 'full'; not for cpu).",
            labels=["resource"])
        for resource in RESOURCES:
            try:
                totals = parse_pressure((self._dir / resource).read_text())
            except FileNotFoundError:
                continue  # no PSI in this kernel
            if "some" in totals:
                waiting.add_metric([resource], totals["some"])
            if "full" in totals and resource != "cpu":
                stalled.add_metric([resource], totals["full"])
        yield waiting
        yield stalled
