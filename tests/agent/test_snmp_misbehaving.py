"""The SNMP poller holds what it asked for, whatever a device sends: against the real
`regie agent run` process, a real snmpd, and misbehaving devices on real UDP sockets
(tests/agent/snmp_device.py: no real snmpd answers out of protocol).

Timing is never asserted: every wait polls with a generous deadline for an event (a target
reported down, a series present).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

from tests.agent.conftest import agent_process
from tests.agent.snmp_device import Device
from tests.services import http_get, wait_for


def _target(name: str, port: int, community: str) -> str:
    return f"""
[[snmp.targets]]
name = "{name}"
address = "127.0.0.1"
port = {port}
version = "2c"
community = "{community}"
"""


def _agent_pid(port: int) -> int:
    """The agent process listening on `port` (found by its command line)."""
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            argv = status.read_bytes().split(b"\0")
            if b"agent" in argv and f"127.0.0.1:{port}".encode() in argv:
                return int(status.parent.name)
    raise AssertionError(f"no agent process on port {port}")


def _peak_rss_kb(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+)", text, re.MULTILINE).group(1))


@contextlib.contextmanager
def _agent_with(tmp_path: Path, devices: list[Device], config: str):
    """The devices on their sockets and the real agent polling them: (agent, its pid)."""
    with contextlib.ExitStack() as stack:
        for device in devices:
            stack.enter_context(device)
        agent = stack.enter_context(agent_process(tmp_path, config))
        yield agent, _agent_pid(agent.port)


@pytest.mark.timeout(300)
def test_devices_answering_out_of_bounds_keep_the_agent_in_its_memory(tmp_path, snmpd):
    """The attack: devices whose tables never end, answering each GETBULK (25 values asked)
    with 28 texts of 2,000 octets, one of 60,000, or 200 of 250. Each walk was given up only
    after its 1,000 requests, and all that was sent was held until then: with these three and
    one more the agent's RSS went from 65 to 268 MB, past the 128 MB its unit allows (the
    kernel kills it, and every series of the host with it). Now each answer is read up to
    what was asked for, and text up to DisplayString's 255 octets; the devices are down, the
    real snmpd is read as before."""
    devices = [Device(per_answer=28, text_octets=2000, rows=None),
               Device(per_answer=1, text_octets=60000, rows=None),
               Device(per_answer=200, text_octets=250, rows=None)]
    # A row budget large enough that each walk runs into its 1,000 requests first.
    config = "[snmp]\ninterval_seconds = 600\ntimeout_seconds = 5\nmax_rows = 400000\n"
    config += _target("real", snmpd.port, snmpd.community)
    config += "".join(_target(f"bad{i}", d.port, "public") for i, d in enumerate(devices))
    with _agent_with(tmp_path, devices, config) as (agent, pid):

        def every_walk_given_up() -> bool:
            log = (tmp_path / "agent.log").read_text(errors="replace")
            return all(f"SNMP target bad{i} is down" in log for i in range(len(devices)))

        wait_for(every_walk_given_up, timeout=240, interval=0.5,
                 what="every misbehaving device to be given up on")
        metrics = http_get(f"{agent.url}/metrics", timeout=10).decode()
        peak = _peak_rss_kb(pid)
    log = (tmp_path / "agent.log").read_text(errors="replace")
    assert 'regie_snmp_up{target="real"} 1.0' in metrics
    for i in range(len(devices)):
        assert f'regie_snmp_up{{target="bad{i}"}} 0.0' in metrics
        assert re.search(rf"SNMP target bad{i} is down.*more than 1000 requests", log)
    assert "Traceback" not in log
    assert peak < 128 * 1024, peak


@pytest.mark.timeout(120)
def test_a_table_sent_whole_is_read_whole_and_its_text_cut_at_255_octets(tmp_path):
    """A device answering each GETBULK with 40 rows of its 100-row tables (25 asked for) and
    a 1,000-octet ifDescr: every row is read, each interface name is ifDescr's first 255 octets
    (1,000-character label values before)."""
    with Device(per_answer=40, text_octets=1000, rows=100) as device:
        config = "[snmp]\ninterval_seconds = 600\ntimeout_seconds = 5\n"
        config += _target("wide", device.port, "public")
        with agent_process(tmp_path, config) as agent:
            def up() -> str | None:
                text = http_get(f"{agent.url}/metrics", timeout=10).decode()
                return text if 'regie_snmp_up{target="wide"} 1.0' in text else None

            metrics = wait_for(up, timeout=60, interval=0.5, what="the device to be read")
    names = re.findall(r'^regie_snmp_if_oper_status\{.*ifname="([^"]*)"', metrics, re.MULTILINE)
    indexes = re.findall(r'^regie_snmp_if_oper_status\{.*ifindex="(\d+)"', metrics, re.MULTILINE)
    assert sorted(map(int, indexes)) == list(range(1, 101))
    assert set(names) == {"d" * 255}


def _log(tmp_path: Path) -> str:
    return (tmp_path / "agent.log").read_text(errors="replace")


@pytest.mark.timeout(300)
def test_one_device_with_a_huge_table_fails_alone_within_its_share(tmp_path, snmpd):
    """The attack: a device whose tables have 24,000 rows with 255-octet names, answering
    exactly what is asked (25 per GETBULK, so under the 1,000 requests per column). It was
    read whole: 292 s of polling, then the agent held 374 MB RSS and a scrape was 72 MB of
    text taking 9 s. Now each target holds at most its share of snmp.max_rows (2,000 for
    the agent, 1,000 each here): the device is down, naming the limit, the real snmpd is
    read as before, and the agent stays within its unit's 128 MB."""
    config = "[snmp]\ninterval_seconds = 600\ntimeout_seconds = 5\n"
    config += _target("real", snmpd.port, snmpd.community)
    with Device(per_answer=25, text_octets=255, rows=24000) as device:
        config += _target("huge", device.port, "public")
        with agent_process(tmp_path, config) as agent:
            pid = _agent_pid(agent.port)
            wait_for(lambda: "SNMP target huge is down" in _log(tmp_path), timeout=120,
                     interval=0.5, what="the huge device to be given up on")
            metrics = http_get(f"{agent.url}/metrics", timeout=10).decode()
            peak = _peak_rss_kb(pid)
    assert 'regie_snmp_up{target="real"} 1.0' in metrics
    assert 'regie_snmp_up{target="huge"} 0.0' in metrics
    assert re.search(r"SNMP target huge is down.*more than 1000 rows \(this target's share "
                     r"of snmp.max_rows\)", _log(tmp_path))
    assert len(metrics) < 100_000
    assert peak < 128 * 1024, peak


@pytest.mark.timeout(300)
def test_many_endless_devices_together_stay_within_the_agents_memory(tmp_path, snmpd):
    """Memory was bounded per device (25,000 values of a walk), not for the agent: 8 devices
    whose tables never end took it to 137 MB, 12 further. Their polls together now hold at
    most snmp.max_rows rows (each its share: 2,000 // 13 = 153), so twelve are down within
    a few requests each, and the real snmpd beside them is read."""
    devices = [Device(per_answer=25, text_octets=255, rows=None) for _ in range(12)]
    config = "[snmp]\ninterval_seconds = 600\ntimeout_seconds = 5\n"
    config += _target("real", snmpd.port, snmpd.community)
    config += "".join(_target(f"bad{i}", d.port, "public") for i, d in enumerate(devices))
    with _agent_with(tmp_path, devices, config) as (agent, pid):
        wait_for(lambda: all(f"SNMP target bad{i} is down" in _log(tmp_path)
                             for i in range(len(devices))),
                 timeout=240, interval=0.5, what="every endless device to be given up on")
        metrics = http_get(f"{agent.url}/metrics", timeout=10).decode()
        peak = _peak_rss_kb(pid)
    assert 'regie_snmp_up{target="real"} 1.0' in metrics
    for i in range(len(devices)):
        assert f'regie_snmp_up{{target="bad{i}"}} 0.0' in metrics
        assert re.search(rf"SNMP target bad{i} is down.*more than 153 rows", _log(tmp_path))
    assert peak < 128 * 1024, peak


@pytest.mark.timeout(300)
def test_devices_filling_their_shares_are_read_within_the_agents_memory(tmp_path):
    """The worst the default budget allows: eight devices, each with 62 rows in each of its
    four tables (248 of its 250-row share) and 255-octet names in every text column. All are
    read whole, and a scrape of them all leaves the agent under 128 MB."""
    devices = [Device(per_answer=25, text_octets=255, rows=62) for _ in range(8)]
    config = "[snmp]\ninterval_seconds = 600\ntimeout_seconds = 5\n"
    config += "".join(_target(f"full{i}", d.port, "public") for i, d in enumerate(devices))
    with _agent_with(tmp_path, devices, config) as (agent, pid):

        def all_up() -> str | None:
            text = http_get(f"{agent.url}/metrics", timeout=10).decode()
            return text if text.count("} 1.0\n") >= 8 and all(
                f'regie_snmp_up{{target="full{i}"}} 1.0' in text for i in range(8)) else None

        metrics = wait_for(all_up, timeout=120, interval=0.5, what="every device to be read")
        for _ in range(3):
            http_get(f"{agent.url}/metrics", timeout=10)
        peak = _peak_rss_kb(pid)
    for i in range(8):
        assert len(re.findall(rf'^regie_snmp_if_oper_status\{{.*target="full{i}"', metrics,
                              re.MULTILINE)) == 62
    assert peak < 128 * 1024, peak
