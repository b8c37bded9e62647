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
    config = "[snmp]\ninterval_seconds = 600\ntimeout_seconds = 5\n"
    config += _target("real", snmpd.port, snmpd.community)
    config += "".join(_target(f"bad{i}", d.port, "public") for i, d in enumerate(devices))
    with contextlib.ExitStack() as stack:
        for device in devices:
            stack.enter_context(device)
        agent = stack.enter_context(agent_process(tmp_path, config))
        pid = _agent_pid(agent.port)

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
