"""Kernel event counters from /proc/vmstat: OOM kills, page faults, swapping.

The fields node_exporter's `vmstat` collector exposes by default that matter for alerting
(oom_kill since Linux 4.13). A field the kernel does not have is left out, not reported as 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from prometheus_client.metrics_core import CounterMetricFamily, Metric

# /proc/vmstat field -> (metric, help). Page counts stay page counts (as node_exporter's).
FIELDS = {
    "oom_kill": ("regie_vmstat_oom_kills", "Processes killed by the kernel's OOM killer."),
    "pgfault": ("regie_vmstat_page_faults", "Page faults, minor and major."),
    "pgmajfault": ("regie_vmstat_major_page_faults",
                   "Major page faults (the page had to be read from disk)."),
    "pswpin": ("regie_vmstat_pages_swapped_in", "Pages swapped in."),
    "pswpout": ("regie_vmstat_pages_swapped_out", "Pages swapped out."),
}


# One pass over the ~170 lines for the few fields wanted.
_FIELD_LINES = re.compile(rf"^({'|'.join(FIELDS)}) (\d+)$", re.MULTILINE)


def parse_vmstat(text: str) -> dict[str, int]:
    return {name: int(value) for name, value in _FIELD_LINES.findall(text)}


class VmstatCollector:
    name = "vmstat"

    def __init__(self, procfs: Path = Path("/proc")) -> None:
        self._path = procfs / "vmstat"

    def collect(self) -> Iterable[Metric]:
        values = parse_vmstat(self._path.read_text())
        for field, (name, help_) in FIELDS.items():
            if field in values:
                yield CounterMetricFamily(name, help_, value=values[field])
