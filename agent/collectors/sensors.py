"""Hardware temperatures from hwmon, where the host has sensors (most VMs have none)."""

from __future__ import annotations

from collections.abc import Iterable

import psutil
from prometheus_client.metrics_core import GaugeMetricFamily, Metric


class TemperatureCollector:
    name = "temperature"

    @classmethod
    def if_available(cls) -> TemperatureCollector | None:
        # Asked once at start: with no sensors (most VMs) every scrape would still glob
        # /sys/class/hwmon for nothing (~0.4 ms). Sensors appear with their driver, at boot.
        if not hasattr(psutil, "sensors_temperatures") or not psutil.sensors_temperatures():
            return None
        return cls()

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily("regie_hwmon_temperature_celsius",
                                   "Temperature reported by a hardware sensor.",
                                   labels=["chip", "sensor"])
        critical = GaugeMetricFamily("regie_hwmon_temperature_critical_celsius",
                                     "Critical temperature of a hardware sensor, where known.",
                                     labels=["chip", "sensor"])
        for chip, readings in sorted(psutil.sensors_temperatures().items()):
            for i, reading in enumerate(readings, start=1):
                sensor = reading.label or f"temp{i}"
                family.add_metric([chip, sensor], reading.current)
                if reading.critical:
                    critical.add_metric([chip, sensor], reading.critical)
        yield family
        yield critical
