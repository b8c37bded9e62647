"""Load averages, boot time, uptime and open file descriptors."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

import psutil
from prometheus_client.metrics_core import GaugeMetricFamily, Metric


class SystemCollector:
    name = "system"

    def __init__(self, procfs: Path = Path("/proc")) -> None:
        self._file_nr = procfs / "sys/fs/file-nr"

    def collect(self) -> Iterable[Metric]:
        load1, load5, load15 = os.getloadavg()
        yield GaugeMetricFamily("regie_load1", "Load average over 1 minute.", value=load1)
        yield GaugeMetricFamily("regie_load5", "Load average over 5 minutes.", value=load5)
        yield GaugeMetricFamily("regie_load15", "Load average over 15 minutes.", value=load15)
        # Per CPU, so one threshold fits every host (node_exporter's mixin: load1 / CPUs > 2).
        yield GaugeMetricFamily("regie_load1_per_cpu",
                                "Load average over 1 minute divided by the CPUs online.",
                                value=load1 / (psutil.cpu_count() or 1))
        boot = psutil.boot_time()
        yield GaugeMetricFamily("regie_boot_time_seconds",
                                "Boot time, seconds since the Unix epoch.", value=boot)
        yield GaugeMetricFamily("regie_uptime_seconds", "Seconds since boot.",
                                value=time.time() - boot)
        # file-nr: allocated, allocated-but-unused (always 0 since 2.6), maximum.
        allocated, _unused, maximum = self._file_nr.read_text().split()
        yield GaugeMetricFamily("regie_filefd_allocated",
                                "File descriptors allocated system-wide.", value=int(allocated))
        yield GaugeMetricFamily("regie_filefd_maximum",
                                "System-wide file descriptor limit (fs.file-max).",
                                value=int(maximum))
        yield GaugeMetricFamily("regie_filefd_used_ratio",
                                "Share of the system-wide file descriptor limit allocated.",
                                value=int(allocated) / int(maximum) if int(maximum) else 0.0)
