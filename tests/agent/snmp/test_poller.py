"""Polling a real net-snmp snmpd (conftest.snmpd) over SNMPv1, v2c and v3 authPriv."""

from __future__ import annotations

import socket
import time

import psutil
import pytest

from regie.configfile import Secret
from tests.agent.snmp.scrape import names_for, series
from tests.services import free_port

pytestmark = pytest.mark.services

# net-snmp's sysObjectID lives under its enterprise number (NET-SNMP-MIB, 8072).
NET_SNMP = "1.3.6.1.4.1.8072."


def test_v2c_poll_reads_system_interfaces_and_storage(snmpd, poll):
    """Real snmpd, SNMPv2c community: system group, IF-MIB and hrStorage become metrics."""
    _, registry = poll(snmpd.v2c())
    get = registry.get_sample_value
    assert get("regie_snmp_up", {"target": "v2c"}) == 1
    assert get("regie_snmp_poll_duration_seconds", {"target": "v2c"}) > 0
    assert get("regie_snmp_sys_uptime_seconds", {"target": "v2c"}) > 0

    ((info, value),) = series(registry, "regie_snmp_system_info", "v2c")
    assert value == 1
    assert info["sys_name"] == snmpd.sys_name
    assert info["sys_object_id"].startswith(NET_SNMP)

    # net-snmp's ifIndex is the kernel's; our own SNMP traffic crosses lo, so it counted.
    lo = {"target": "v2c", "ifindex": str(socket.if_nametoindex("lo")), "ifname": "lo"}
    assert get("regie_snmp_if_oper_status", lo) == 1
    assert get("regie_snmp_if_in_octets_total", lo) > 0
    assert get("regie_snmp_if_out_octets_total", lo) > 0
    for name in ("in_errors", "out_errors", "in_discards", "out_discards"):
        assert get(f"regie_snmp_if_{name}_total", lo) >= 0

    sizes = {labels["descr"]: v for labels, v in
             series(registry, "regie_snmp_storage_size_bytes", "v2c")}
    used = {labels["descr"]: v for labels, v in
            series(registry, "regie_snmp_storage_used_bytes", "v2c")}
    assert sizes, "hrStorageTable had no rows"
    assert sizes.keys() == used.keys()
    # Both read MemTotal from /proc/meminfo: units x allocation units must add up to it.
    total = psutil.virtual_memory().total
    assert sizes["Physical memory"] == pytest.approx(total, rel=0.01)

    # hrProcessorLoad is "the average over the last minute": net-snmp answers noSuchInstance
    # for every processor until it has a minute of samples (measured: rows appear 55-60 s after
    # start), then one row per CPU. The session's snmpd may be on either side of that minute,
    # so both are accepted, but nothing else: no invented 0 for a processor without a load,
    # no partial table. Load values themselves: test_sample.py.
    loads = [load for _labels, load in
             series(registry, "regie_snmp_processor_load_ratio", "v2c")]
    assert len(loads) in (0, psutil.cpu_count()), loads
    assert all(0 <= load <= 1 for load in loads), loads


def test_v1_poll_walks_with_getnext(snmpd, poll):
    """Real snmpd, SNMPv1 (explicitly chosen): GETNEXT walks and 32-bit counters still work."""
    _, registry = poll(snmpd.v2c("v1", version="1"))
    assert registry.get_sample_value("regie_snmp_up", {"target": "v1"}) == 1
    lo = {"target": "v1", "ifindex": str(socket.if_nametoindex("lo")), "ifname": "lo"}
    assert registry.get_sample_value("regie_snmp_if_in_octets_total", lo) > 0


def test_v3_auth_priv_sha256_aes128(snmpd, poll):
    """Real snmpd, SNMPv3 user created with SHA-256/AES-128: the default protocols work."""
    target = snmpd.v3()
    assert (target.auth_protocol, target.priv_protocol) == ("SHA-256", "AES-128")
    _, registry = poll(target)
    assert registry.get_sample_value("regie_snmp_up", {"target": "v3"}) == 1
    ((info, _value),) = series(registry, "regie_snmp_system_info", "v3")
    assert info["sys_name"] == snmpd.sys_name
    assert series(registry, "regie_snmp_if_in_octets_total", "v3")


@pytest.mark.parametrize("wrong", [
    pytest.param({"version": "2c", "community": Secret("not-the-community")}, id="community"),
    pytest.param({"auth_password": Secret("not-the-auth-password")}, id="v3-auth-password"),
    pytest.param({"priv_password": Secret("not-the-priv-password")}, id="v3-priv-password"),
    pytest.param({"auth_protocol": "SHA"}, id="v3-auth-protocol"),
])
def test_wrong_credentials_mean_down(snmpd, poll, wrong):
    """Real snmpd refusing (or silently ignoring) bad credentials: up 0, no other series."""
    target = (snmpd.v2c("bad", **wrong) if wrong.get("version") == "2c"
              else snmpd.v3("bad", **wrong))
    service, registry = poll(target, timeout_seconds=1.0, retries=0)
    assert registry.get_sample_value("regie_snmp_up", {"target": "bad"}) == 0
    assert names_for(registry, "bad") == {"regie_snmp_up"}
    (sample,) = service.samples()
    assert sample.error


@pytest.mark.parametrize(("settings", "override"), [
    pytest.param({"timeout_seconds": 1.0, "retries": 1}, {}, id="settings-timeout"),
    pytest.param({"timeout_seconds": 60.0, "retries": 3},
                 {"timeout_seconds": 1.0, "retries": 1}, id="target-overrides-settings"),
])
def test_unreachable_target_is_down_within_its_timeout(snmpd, poll, settings, override):
    """Real UDP: a loopback port with nothing listening answers nothing; up 0 in time."""
    target = snmpd.v2c("gone", port=free_port(socket.SOCK_DGRAM), **override)
    started = time.monotonic()
    _, registry = poll(target, **settings)
    elapsed = time.monotonic() - started
    assert registry.get_sample_value("regie_snmp_up", {"target": "gone"}) == 0
    # 1 s x (1 + 1 retry) is what the effective settings allow; the bound is loose so a busy
    # machine cannot fail it, yet far below the 60 s x 4 tries the override must displace.
    assert elapsed < 20.0


def test_one_bad_target_does_not_cost_the_others(snmpd, poll):
    """Real snmpd polled by a good and a bad target in the same round."""
    _, registry = poll(snmpd.v3(), snmpd.v2c("bad", community=Secret("not-the-community")),
                       timeout_seconds=1.0, retries=0)
    assert registry.get_sample_value("regie_snmp_up", {"target": "v3"}) == 1
    assert registry.get_sample_value("regie_snmp_up", {"target": "bad"}) == 0
