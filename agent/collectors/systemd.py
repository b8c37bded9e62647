"""Failed systemd units, where systemd is the init system.

Asked through `systemctl` (no D-Bus library on an agent host) and cached, so a scrape every
few seconds does not fork a process every few seconds.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterable

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

SYSTEMCTL_FAILED = ("systemctl", "list-units", "--state=failed", "--plain", "--no-legend",
                    "--no-pager", "--all")


def run_systemctl() -> str:
    return subprocess.run(SYSTEMCTL_FAILED, capture_output=True, text=True, timeout=10,
                          check=True).stdout


def parse_failed_units(output: str) -> list[str]:
    """Unit names from `systemctl list-units --state=failed --plain --no-legend`."""
    units = []
    for line in output.splitlines():
        # Some systemd versions print a "●" marker column even with --plain.
        fields = [f for f in line.split() if f not in ("●", "*")]
        if fields:
            units.append(fields[0].lstrip("●*"))
    return [u for u in units if u]


class SystemdCollector:
    name = "systemd"

    @classmethod
    def if_available(cls, *, cache_seconds: float) -> SystemdCollector | None:
        # sd_booted(3): systemd is PID 1 exactly when this directory exists.
        return cls(cache_seconds=cache_seconds) if os.path.isdir("/run/systemd/system") else None

    def __init__(self, *, cache_seconds: float, clock=time.monotonic,
                 systemctl: Callable[[], str] = run_systemctl) -> None:
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._systemctl = systemctl
        self._lock = threading.Lock()
        self._cached: tuple[float, list[str]] | None = None

    def _failed_units(self) -> list[str]:
        with self._lock:
            now = self._clock()
            if self._cached and now - self._cached[0] < self._cache_seconds:
                return self._cached[1]
            units = parse_failed_units(self._systemctl())
            self._cached = (now, units)
            return units

    def collect(self) -> Iterable[Metric]:
        units = self._failed_units()
        yield GaugeMetricFamily("regie_systemd_units_failed", "Units in the failed state.",
                                value=len(units))
        family = GaugeMetricFamily("regie_systemd_unit_failed", "1 for each failed unit.",
                                   labels=["unit"])
        for unit in units:
            family.add_metric([unit], 1)
        yield family
