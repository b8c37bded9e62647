"""The agent's kernel signals (timex, vmstat, pressure, conntrack, file descriptors, link state)
cross-checked against a real prometheus-node-exporter reading the same kernel on this machine.

As in test_against_node_exporter.py: node_exporter is read, then the agent, then
node_exporter again; counters must lie between the two node_exporter reads exactly, gauges that
move on their own get a stated tolerance. Each check first asserts that node_exporter reports
the value at all, so a machine without the source fails loudly instead of passing vacuously.
"""

from __future__ import annotations

import os
import sys

import pytest

from agent.collectors.timex import TIME_ERROR, read_adjtimex
from tests.agent.test_against_node_exporter import samples, value

pytestmark = pytest.mark.services


@pytest.fixture
def reads(node_exporter, agent):
    before = samples(node_exporter.url)
    ours = samples(agent.url)
    after = samples(node_exporter.url)
    return before, ours, after


def bracket(reads, node_name: str, our_name: str, *, tolerance: float = 0.0,
            our_labels: dict[str, str] | None = None, **labels: str) -> float:
    before, ours, after = reads
    low, high = sorted((value(before, node_name, **labels), value(after, node_name, **labels)))
    got = value(ours, our_name, **(labels if our_labels is None else our_labels))
    # Plus the last bits of a double: the same microseconds scaled to seconds by node_exporter
    # (x 1e-6) and by the agent (/ 1e6) may differ there (61.769510000000004 and 61.76951).
    rounding = 4 * sys.float_info.epsilon * max(abs(low), abs(high), 1.0)
    assert low - tolerance - rounding <= got <= high + tolerance + rounding, (
        our_name, labels, low, got, high)
    return got


def test_timex_matches_node_exporter(reads):
    before, ours, _ = reads
    assert value(ours, "regie_timex_sync_status") == value(before, "node_timex_sync_status")
    assert value(ours, "regie_timex_status") == value(before, "node_timex_status")
    # maxerror grows by the kernel's tolerance every second until the NTP daemon resets it;
    # capped at 16 s on an unsynchronised clock. 1 ms covers a reset between the reads.
    bracket(reads, "node_timex_maxerror_seconds", "regie_timex_maxerror_seconds",
            tolerance=0.001)
    bracket(reads, "node_timex_offset_seconds", "regie_timex_offset_seconds", tolerance=0.001)
    bracket(reads, "node_timex_frequency_adjustment_ratio",
            "regie_timex_frequency_adjustment_ratio", tolerance=1e-6)
    bracket(reads, "node_timex_estimated_error_seconds", "regie_timex_estimated_error_seconds",
            tolerance=0.001)


def test_adjtimex_reads_the_kernels_struct():
    """The ctypes layout is right: the kernel's constant fields come back as documented
    (tick is 1e6/USER_HZ µs, tolerance is 500 ppm scaled by 2^16; adjtimex(2))."""
    state, timex = read_adjtimex()
    assert 0 <= state <= TIME_ERROR
    assert timex.tick * os.sysconf("SC_CLK_TCK") == 1_000_000
    assert timex.tolerance == 500 * 65536
    assert timex.modes == 0


@pytest.mark.parametrize(("field", "metric"), [
    ("oom_kill", "regie_vmstat_oom_kills_total"),
    ("pgfault", "regie_vmstat_page_faults_total"),
    ("pgmajfault", "regie_vmstat_major_page_faults_total"),
    ("pswpin", "regie_vmstat_pages_swapped_in_total"),
    ("pswpout", "regie_vmstat_pages_swapped_out_total"),
])
def test_vmstat_counters_bracketed(reads, field, metric):
    bracket(reads, f"node_vmstat_{field}", metric)


@pytest.mark.parametrize(("node_name", "resource"), [
    ("node_pressure_cpu_waiting_seconds_total", "cpu"),
    ("node_pressure_memory_waiting_seconds_total", "memory"),
    ("node_pressure_io_waiting_seconds_total", "io"),
])
def test_pressure_waiting_bracketed(reads, node_name, resource):
    bracket(reads, node_name, "regie_pressure_waiting_seconds_total",
            our_labels={"resource": resource})


@pytest.mark.parametrize(("node_name", "resource"), [
    ("node_pressure_memory_stalled_seconds_total", "memory"),
    ("node_pressure_io_stalled_seconds_total", "io"),
])
def test_pressure_stalled_bracketed(reads, node_name, resource):
    bracket(reads, node_name, "regie_pressure_stalled_seconds_total",
            our_labels={"resource": resource})


def test_conntrack_matches(reads):
    before, ours, _ = reads
    assert value(ours, "regie_conntrack_entries_limit") == value(
        before, "node_nf_conntrack_entries_limit")
    # Connections come and go between the reads (this machine's own test traffic).
    entries = bracket(reads, "node_nf_conntrack_entries", "regie_conntrack_entries",
                      tolerance=256)
    assert value(ours, "regie_conntrack_used_ratio") == pytest.approx(
        entries / value(ours, "regie_conntrack_entries_limit"))


def test_file_descriptors_match(reads):
    before, ours, _ = reads
    assert value(ours, "regie_filefd_maximum") == value(before, "node_filefd_maximum")
    allocated = bracket(reads, "node_filefd_allocated", "regie_filefd_allocated",
                        tolerance=256)   # other processes open and close files meanwhile
    assert value(ours, "regie_filefd_used_ratio") == pytest.approx(
        allocated / value(ours, "regie_filefd_maximum"))


def test_link_state_matches(reads):
    before, ours, _ = reads
    node_carrier = {dict(labels)["device"]: v for (name, labels), v in before.items()
                    if name == "node_network_carrier"}
    our_carrier = {dict(labels)["device"]: v for (name, labels), v in ours.items()
                   if name == "regie_network_carrier"}
    assert node_carrier, "node_exporter reports no carrier on this machine"
    assert our_carrier == node_carrier
    for (name, labels), _changes in ours.items():
        if name == "regie_network_carrier_changes_total":
            bracket(reads, "node_network_carrier_changes_total", name, **dict(labels))
    # node_exporter 1.5 reports an unknown speed (-1 Mb/s, virtio) as -125000; the agent
    # leaves it out. Every speed the agent reports is node_exporter's.
    for (name, labels), speed in ours.items():
        if name == "regie_network_speed_bytes":
            assert speed == value(before, "node_network_speed_bytes", **dict(labels))
    unknown = {dict(labels)["device"] for (name, labels), v in before.items()
               if name == "node_network_speed_bytes" and v < 0}
    assert not {d for (n, labels), _ in ours.items() if n == "regie_network_speed_bytes"
                for d in [dict(labels)["device"]]} & unknown
