"""Temperatures from hwmon, read from fixture trees laid out as the kernel's
Documentation/hwmon/sysfs-interface.rst describes (tests/agent/fixtures/hwmon/README.md):
millidegrees in the files, degrees Celsius in the metrics.

The trees stand in for /sys/class/hwmon because this machine has no sensors; the collector's
one input is the directory it reads, passed as on a real host.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from agent.collectors.sensors import TemperatureCollector
from tests.services import require_binary

FIXTURES = Path(__file__).parent / "fixtures" / "hwmon"


def exposed(tree: Path) -> tuple[dict, dict, bytes]:
    registry = CollectorRegistry()
    registry.register(TemperatureCollector(tree))
    current, critical = {}, {}
    for family in registry.collect():
        target = critical if family.name.endswith("_critical_celsius") else current
        for sample in family.samples:
            key = (sample.labels["chip"], sample.labels["sensor"])
            assert key not in target, f"{family.name}{key} twice"
            target[key] = sample.value
    return current, critical, generate_latest(registry)


def test_two_socket_server_every_sensor_once_in_degrees():
    """Chips sharing a name (a coretemp per socket, an nvme per drive, a drivetemp per disk)
    are told apart by their device; each temp<N>_input / 1000 is the reading."""
    current, critical, _ = exposed(FIXTURES / "two-socket-server")
    assert current == {
        ("acpitz", "temp1"): 27.8,
        ("coretemp-coretemp.0", "Package id 0"): 45.0,
        ("coretemp-coretemp.0", "Core 0"): 41.0,
        ("coretemp-coretemp.0", "Core 1"): 42.0,
        ("coretemp-coretemp.1", "Package id 1"): 47.0,
        ("coretemp-coretemp.1", "Core 0"): 43.0,
        ("coretemp-coretemp.1", "Core 1"): 44.0,
        ("nvme-nvme0", "Composite"): 38.85,
        ("nvme-nvme0", "Sensor 1"): 38.85,
        ("nvme-nvme1", "Composite"): 40.85,
        ("nvme-nvme1", "Sensor 1"): 41.85,
        ("drivetemp-0:0:0:0", "temp1"): 33.0,
        ("drivetemp-1:0:0:0", "temp1"): 34.0,
    }
    assert critical == {
        ("acpitz", "temp1"): 119.0,
        **{(f"coretemp-coretemp.{s}", sensor): 100.0 for s in (0, 1)
           for sensor in (f"Package id {s}", "Core 0", "Core 1")},
        ("nvme-nvme0", "Composite"): 84.85,
        ("nvme-nvme1", "Composite"): 84.85,
        ("drivetemp-0:0:0:0", "temp1"): 60.0,
        ("drivetemp-1:0:0:0", "temp1"): 60.0,
    }


def test_channel_numbers_gaps_old_layout_below_zero_and_a_failing_sensor():
    """An unlabelled sensor is named by its own channel (temp10 is temp10, whatever the ones
    before it); attributes under device/ are read; a negative reading stays negative; a sensor
    that cannot be read is left out, the rest of its chip kept."""
    current, critical, _ = exposed(FIXTURES / "desktop-board")
    assert current == {
        ("nct6798", "SYSTIN"): 31.0,
        ("nct6798", "CPUTIN"): 36.5,
        ("nct6798", "temp7"): 29.0,
        ("nct6798", "temp10"): -2.5,
        ("it8728", "temp1"): 40.0,
        ("it8728", "temp2"): 51.25,
        ("k10temp", "Tctl"): 48.375,
    }
    assert critical == {("nct6798", "SYSTIN"): 125.0, ("it8728", "temp2"): 95.0}


def test_exposition_passes_promtool():
    """Clean for promtool; exposed() has already refused any series seen twice (Prometheus
    would drop a repeated one from the scrape)."""
    _, _, text = exposed(FIXTURES / "two-socket-server")
    lint = subprocess.run([require_binary("promtool"), "check", "metrics"], input=text,
                          capture_output=True, timeout=60, check=False)
    assert (lint.returncode, lint.stdout + lint.stderr) == (0, b"")


def test_no_sensors_no_collector(tmp_path):
    """This machine's case (and most VMs'): no hwmon directory, or chips without temperature
    inputs, means the collector is not registered at all."""
    assert TemperatureCollector.if_available(tmp_path / "absent") is None
    (tmp_path / "hwmon0").mkdir()
    (tmp_path / "hwmon0" / "name").write_text("fan_only\n")
    (tmp_path / "hwmon0" / "fan1_input").write_text("1200\n")
    assert TemperatureCollector.if_available(tmp_path) is None
    assert isinstance(TemperatureCollector.if_available(FIXTURES / "desktop-board"),
                      TemperatureCollector)
