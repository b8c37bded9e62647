"""Hardware temperatures from hwmon, where the host has sensors (most VMs have none).

Read from /sys/class/hwmon as the kernel documents it (Documentation/hwmon/sysfs-interface.rst):
each hwmonN directory is one chip with a `name`; `temp<N>_input` is a reading in millidegrees
Celsius, `temp<N>_crit` the critical limit in the same unit, `temp<N>_label` the sensor's name
where the driver gives one (else the channel, `temp<N>`). Several chips may share a name (one
`coretemp` per CPU socket, one `nvme` per drive, one `drivetemp` per disk): their sensors would
be the same series, so such chips are told apart by their device (`coretemp-coretemp.1`,
`nvme-nvme0`). A reading that fails (a sensor in fault, a chip going away) drops that sensor,
never the scrape.
"""

from __future__ import annotations

import collections
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

_INPUT = re.compile(r"^temp(\d+)_input$")


@dataclass(frozen=True, slots=True)
class Temperature:
    chip: str
    sensor: str
    celsius: float
    critical_celsius: float | None


class TemperatureCollector:
    name = "temperature"

    def __init__(self, hwmon: Path = Path("/sys/class/hwmon")) -> None:
        self._hwmon = hwmon

    @classmethod
    def if_available(cls, hwmon: Path = Path("/sys/class/hwmon")) -> TemperatureCollector | None:
        # Asked once at start: with no sensors (most VMs) every scrape would still list
        # /sys/class/hwmon for nothing. Sensors appear with their driver, at boot.
        collector = cls(hwmon)
        return collector if any(True for _ in collector.read()) else None

    def read(self) -> Iterator[Temperature]:
        chips = []
        for directory in _listdir(self._hwmon):
            name = (_text(self._hwmon / directory / "name")
                    or _text(self._hwmon / directory / "device" / "name"))
            if name is not None:
                chips.append((directory, name))
        shared = {n for n, count in collections.Counter(n for _, n in chips).items()
                  if count > 1}
        for directory, name in sorted(chips, key=lambda c: _number(c[0])):
            chip_path = self._hwmon / directory
            chip = f"{name}-{_device(chip_path) or directory}" if name in shared else name
            # Older drivers put the attributes in the device directory instead.
            path = next((p for p in (chip_path, chip_path / "device") if _channels(p)),
                        chip_path)
            channels = _channels(path)
            for channel in channels:
                millidegrees = _integer(path / f"temp{channel}_input")
                if millidegrees is None:
                    continue
                critical = _integer(path / f"temp{channel}_crit")
                yield Temperature(
                    chip=chip,
                    sensor=_text(path / f"temp{channel}_label") or f"temp{channel}",
                    celsius=millidegrees / 1000,
                    critical_celsius=None if critical is None else critical / 1000)

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily("regie_hwmon_temperature_celsius",
                                   "Temperature reported by a hardware sensor.",
                                   labels=["chip", "sensor"])
        critical = GaugeMetricFamily("regie_hwmon_temperature_critical_celsius",
                                     "Critical temperature of a hardware sensor, where known.",
                                     labels=["chip", "sensor"])
        for reading in self.read():
            family.add_metric([reading.chip, reading.sensor], reading.celsius)
            if reading.critical_celsius is not None:
                critical.add_metric([reading.chip, reading.sensor], reading.critical_celsius)
        yield family
        yield critical


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _channels(path: Path) -> list[int]:
    return sorted(int(m.group(1)) for f in _listdir(path) if (m := _INPUT.match(f)))


def _number(directory: str) -> tuple[int, str]:
    digits = directory.removeprefix("hwmon")
    return (int(digits), directory) if digits.isdigit() else (1 << 30, directory)


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


def _integer(path: Path) -> int | None:
    text = _text(path)
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


def _device(chip: Path) -> str | None:
    """The chip's device (`coretemp.0`, `nvme1`, `0:0:0:0`): the last part of its link."""
    try:
        return os.path.basename(os.readlink(chip / "device")) or None
    except OSError:
        return None
