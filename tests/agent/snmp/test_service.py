"""SnmpService: background polling against a real snmpd, inventory observations, lazy pysnmp."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from agent.config import SnmpSettings
from agent.snmp.service import SnmpService
from regie.configfile import Secret
from tests.services import free_port, wait_for

pytestmark = pytest.mark.services

REPO = Path(__file__).resolve().parents[3]


def _poller_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "regie-snmp" and t.is_alive()]


def test_observations_carry_sysdescr_for_inventory(snmpd, poll):
    """Real snmpd with a configured sysDescr: one observation per target that answered."""
    service, _ = poll(snmpd.v2c(), snmpd.v2c("bad", community=Secret("not-the-community")),
                      timeout_seconds=1.0, retries=0)
    (observation,) = service.observations()
    assert observation["source"] == "snmp"
    raw = observation["raw"]
    assert raw["sysDescr"] == snmpd.sys_descr
    assert raw["sysName"] == snmpd.sys_name
    assert raw["sysObjectID"].startswith("1.3.6.1.4.1.8072.")
    assert raw["target"] == "v2c"


def test_background_thread_polls_on_its_interval_and_closes_promptly(snmpd):
    """Real snmpd polled by the service thread: sysUpTime advances between rounds."""
    service = SnmpService(SnmpSettings(interval_seconds=1.5, targets=(snmpd.v2c(),)))
    registry = CollectorRegistry()
    registry.register(service.collector())

    def uptime() -> float | None:
        return registry.get_sample_value("regie_snmp_sys_uptime_seconds", {"target": "v2c"})

    try:
        service.start()
        first = wait_for(uptime, timeout=30, what="the first background poll")
        wait_for(lambda: (uptime() or 0) > first, timeout=30, what="a second background poll")
        # poll_once() still works while the thread runs (it joins the thread's loop).
        service.poll_once()
        assert registry.get_sample_value("regie_snmp_up", {"target": "v2c"}) == 1
    finally:
        started = time.monotonic()
        service.close()
        assert time.monotonic() - started < 5
    assert not _poller_threads()
    with pytest.raises(RuntimeError):
        service.poll_once()


def test_close_cancels_a_round_in_flight(snmpd):
    """Real UDP to a silent port with a 30 s timeout: close() still returns at once."""
    silent = snmpd.v2c("silent", port=free_port(socket.SOCK_DGRAM), timeout_seconds=30.0)
    service = SnmpService(SnmpSettings(interval_seconds=120, targets=(silent,)))
    service.start()
    started = time.monotonic()
    service.close()
    assert time.monotonic() - started < 5
    assert not _poller_threads()


def test_importing_the_package_does_not_load_pysnmp():
    """A real Python subprocess: the SNMP package and an idle service leave pysnmp unloaded."""
    code = textwrap.dedent("""
        import sys
        import agent.snmp, agent.snmp.oids, agent.snmp.sample, agent.snmp.metrics
        from agent.config import SnmpSettings, SnmpTarget
        from agent.snmp.service import SnmpService
        from regie.configfile import Secret
        target = SnmpTarget(name="t", address="127.0.0.1", version="2c",
                            community=Secret("x"))
        service = SnmpService(SnmpSettings(targets=(target,)))
        list(service.collector().collect())
        service.close()
        assert "pysnmp" not in sys.modules, sorted(m for m in sys.modules if "pysnmp" in m)
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
