"""Cross-check the agent's health values against a real prometheus-node-exporter.

Counters are compared by bracketing: node_exporter is read, then the agent, then node_exporter
again, so for monotonic counters node_before <= agent <= node_after must hold exactly (plus the
rounding of /proc's 1/100 s ticks). Gauges that move on their own (available memory) get a
stated tolerance. No timing assumption: each read may take as long as it takes.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.services import http_get

MEMORY_TOLERANCE_BYTES = 64 * 1024 * 1024  # other processes allocate between the two reads
TICK = 0.011  # /proc/stat counts 1/100 s; per-CPU lines summed may round differently
# /proc/diskstats counts milliseconds: both divide by 1000, in floating point.
MILLISECOND_ROUNDING = 1e-6

# The agent's disk counters and node_exporter's for the same /proc/diskstats field.
DISK_COUNTERS = {
    "regie_disk_reads_completed_total": "node_disk_reads_completed_total",
    "regie_disk_writes_completed_total": "node_disk_writes_completed_total",
    "regie_disk_read_bytes_total": "node_disk_read_bytes_total",
    "regie_disk_written_bytes_total": "node_disk_written_bytes_total",
    "regie_disk_read_time_seconds_total": "node_disk_read_time_seconds_total",
    "regie_disk_write_time_seconds_total": "node_disk_write_time_seconds_total",
    "regie_disk_io_time_seconds_total": "node_disk_io_time_seconds_total",
}


def samples(url: str) -> dict[tuple[str, tuple], float]:
    text = http_get(f"{url}/metrics", timeout=20).decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(data: dict, name: str, **labels: str) -> float:
    return data[(name, tuple(sorted(labels.items())))]


def cpu_by_mode(data: dict, name: str) -> dict[str, float]:
    modes: dict[str, float] = defaultdict(float)
    for (metric, labels), v in data.items():
        if metric == name:
            modes[dict(labels)["mode"]] += v
    return dict(modes)


@pytest.fixture
def reads(node_exporter, agent):
    before = samples(node_exporter.url)
    ours = samples(agent.url)
    after = samples(node_exporter.url)
    return before, ours, after


def test_memory_total_equal_available_close(reads):
    before, ours, after = reads
    assert value(ours, "regie_memory_total_bytes") == value(before, "node_memory_MemTotal_bytes")
    node_available = [value(d, "node_memory_MemAvailable_bytes") for d in (before, after)]
    ours_available = value(ours, "regie_memory_available_bytes")
    assert min(node_available) - MEMORY_TOLERANCE_BYTES <= ours_available
    assert ours_available <= max(node_available) + MEMORY_TOLERANCE_BYTES


def test_root_filesystem_size_equal(reads):
    before, ours, _ = reads
    node = {dict(labels)["mountpoint"]: v for (name, labels), v in before.items()
            if name == "node_filesystem_size_bytes"}
    agent = {dict(labels)["mountpoint"]: v for (name, labels), v in ours.items()
             if name == "regie_filesystem_size_bytes"}
    assert agent["/"] == node["/"]
    # With the same exclusion rules both report exactly the same mounts.
    assert set(agent) == set(node)


def test_cpu_seconds_bracketed_per_mode(reads):
    before, ours, after = reads
    node_before = cpu_by_mode(before, "node_cpu_seconds_total")
    node_after = cpu_by_mode(after, "node_cpu_seconds_total")
    agent = cpu_by_mode(ours, "regie_cpu_seconds_total")
    assert set(agent) == set(node_before)
    for mode, seconds in agent.items():
        assert node_before[mode] - TICK <= seconds <= node_after[mode] + TICK, mode


def test_network_bytes_bracketed_per_device(reads):
    before, ours, after = reads
    checked = 0
    for direction in ("receive", "transmit"):
        node_name = f"node_network_{direction}_bytes_total"
        for (name, labels), seconds in ours.items():
            if name != f"regie_network_{direction}_bytes_total":
                continue
            device = dict(labels)["device"]
            low = value(before, node_name, device=device)
            high = value(after, node_name, device=device)
            assert low <= seconds <= high, (direction, device, low, seconds, high)
            checked += 1
    assert checked >= 2  # at least lo in both directions


def test_boot_time_equal(reads):
    before, ours, _ = reads
    difference = value(ours, "regie_boot_time_seconds") - value(before, "node_boot_time_seconds")
    assert abs(difference) <= 1


def by_device(data: dict, name: str) -> dict[str, float]:
    return {dict(labels)["device"]: v for (metric, labels), v in data.items() if metric == name}


def write_and_sync(directory: Path) -> None:
    """Writes that reach a disk (fsync), so the write counters have moved on an idle host."""
    with open(directory / "io.bin", "wb") as out:
        for _ in range(16):
            out.write(os.urandom(64 * 1024))
            out.flush()
            os.fsync(out.fileno())


def test_disk_counters_bracketed_per_device(node_exporter, agent, tmp_path):
    """Every disk counter, per device, between node_exporter's reads before and after: the same
    units (seconds, bytes) as node_exporter, which reads the same /proc/diskstats fields."""
    write_and_sync(tmp_path)
    before = samples(node_exporter.url)
    ours = samples(agent.url)
    after = samples(node_exporter.url)
    for regie_name, node_name in DISK_COUNTERS.items():
        agent_values = by_device(ours, regie_name)
        low, high = by_device(before, node_name), by_device(after, node_name)
        # With the same exclusions both report the same disks ...
        assert set(agent_values) == set(low) == set(high), (regie_name, agent_values, low)
        # ... and one has moved (reads since boot, the writes above): no vacuous 0 <= 0 <= 0.
        assert any(v > 0 for v in agent_values.values()), (regie_name, agent_values)
        for device, count in agent_values.items():
            assert (low[device] - MILLISECOND_ROUNDING <= count
                    <= high[device] + MILLISECOND_ROUNDING), (
                regie_name, device, low[device], count, high[device])
