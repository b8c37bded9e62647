"""Block device I/O counters."""

from __future__ import annotations

import re
from collections.abc import Iterable

import psutil
from prometheus_client.metrics_core import CounterMetricFamily, Metric

# (psutil field, metric name, help, scale). psutil gives times in milliseconds.
_FIELDS = (
    ("read_count", "regie_disk_reads_completed", "Reads completed.", 1),
    ("write_count", "regie_disk_writes_completed", "Writes completed.", 1),
    ("read_bytes", "regie_disk_read_bytes", "Bytes read.", 1),
    ("write_bytes", "regie_disk_written_bytes", "Bytes written.", 1),
    ("read_time", "regie_disk_read_time_seconds", "Time spent reading.", 0.001),
    ("write_time", "regie_disk_write_time_seconds", "Time spent writing.", 0.001),
    ("busy_time", "regie_disk_io_time_seconds", "Time the device had I/O in flight.", 0.001),
)


class DiskCollector:
    name = "disk"

    def __init__(self, *, exclude: str) -> None:
        self._exclude = re.compile(exclude)

    def collect(self) -> Iterable[Metric]:
        families = [CounterMetricFamily(name, help_, labels=["device"])
                    for _, name, help_, _ in _FIELDS]
        counters = psutil.disk_io_counters(perdisk=True, nowrap=True) or {}
        for device, io in sorted(counters.items()):
            if self._exclude.search(device):
                continue
            for family, (attr, _, _, scale) in zip(families, _FIELDS, strict=True):
                value = getattr(io, attr, None)
                if value is not None:
                    family.add_metric([device], value * scale)
        yield from families
