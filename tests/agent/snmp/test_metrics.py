"""The SNMP exposition: names, credentials kept out, lint with the real promtool."""

from __future__ import annotations

import logging
import subprocess

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from agent.config import SnmpSettings
from agent.snmp.service import SnmpService
from regie.configfile import Secret
from tests.agent.snmp.scrape import names_for
from tests.services import require_binary

pytestmark = pytest.mark.services

WRONG = ("wrong-community-value", "wrong-auth-password", "wrong-priv-password")


def _mixed_targets(snmpd):
    return (
        snmpd.v2c(),
        snmpd.v3(),
        snmpd.v2c("bad-community", community=Secret(WRONG[0])),
        snmpd.v3("bad-v3", auth_password=Secret(WRONG[1]), priv_password=Secret(WRONG[2])),
    )


def test_promtool_accepts_the_exposition(snmpd, poll):
    """Real snmpd polled over v2c/v3 (some targets down), checked by the real promtool."""
    promtool = require_binary("promtool")
    _, registry = poll(*_mixed_targets(snmpd), timeout_seconds=1.0, retries=0)
    text = generate_latest(registry)
    assert b"regie_snmp_if_in_octets_total{" in text
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                            timeout=30, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def test_credentials_never_reach_exposition_or_logs(snmpd, poll, caplog):
    """Real snmpd with good and bad credentials: no community, user or password leaks."""
    caplog.set_level(logging.DEBUG)
    service, registry = poll(*_mixed_targets(snmpd), timeout_seconds=1.0, retries=0)
    service.poll_once()
    text = generate_latest(registry).decode()
    reprs = repr(service.samples()) + repr(service.observations())
    for secret in (*snmpd.credentials, *WRONG):
        assert secret not in text
        assert secret not in caplog.text
        assert secret not in reprs
    # The failures were logged: once per streak, not once per round.
    warnings = [r for r in caplog.records
                if r.levelno == logging.WARNING and r.name == "agent.snmp.service"]
    assert sorted(r.args[0] for r in warnings) == ["bad-community", "bad-v3"]


def test_down_target_exports_only_up(snmpd, poll):
    """Real snmpd with a wrong v3 password: the target's other series are dropped."""
    _, registry = poll(snmpd.v3("bad-v3", auth_password=Secret(WRONG[1])),
                       timeout_seconds=1.0, retries=0)
    assert names_for(registry, "bad-v3") == {"regie_snmp_up"}


def test_every_series_has_a_target_label(snmpd, poll):
    """Real snmpd over v2c: no series without `target`."""
    _, registry = poll(snmpd.v2c())
    samples = [s for family in registry.collect() for s in family.samples]
    assert samples
    assert all(s.labels.get("target") == "v2c" for s in samples)


def test_not_yet_polled_targets_export_nothing(snmpd):
    """No device contacted (snmpd running but never polled): an empty scrape, no false down."""
    service = SnmpService(SnmpSettings(targets=(snmpd.v2c(),)))
    try:
        registry = CollectorRegistry()
        registry.register(service.collector())
        assert generate_latest(registry) == b""
    finally:
        service.close()
