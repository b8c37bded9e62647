"""The whole agent as an operator runs it: `regie agent run` with a config file.

Real components only: the agent process, a real snmpd (v3 authPriv target), and a real HTTP
receiver standing in for the collector's inventory endpoint (the collector itself is built
in a later stage; the receiver speaks the same POST /api/v1/inventory contract).
"""

from __future__ import annotations

import json

import pytest

from tests.agent.conftest import agent_process
from tests.agent.push_receiver import Receiver
from tests.services import http_get, wait_for


@pytest.mark.timeout(300)  # 10-90 s (default: 120 s)
def test_agent_serves_snmp_and_pushes_inventory(tmp_path, snmpd):
    token = tmp_path / "agent.token"
    token.write_text("agent-token-e2e-0123456789\n")
    with Receiver() as receiver:
        config = f"""
[push]
collector = "{receiver.url}"
token_file = "{token}"
spool_dir = "{tmp_path / 'spool'}"
inventory_interval_seconds = 1

[snmp]
interval_seconds = 1
timeout_seconds = 2

[[snmp.targets]]
name = "lab-switch"
address = "127.0.0.1"
port = {snmpd.port}
username = "{snmpd.username}"
auth_password = "{snmpd.auth_password}"
priv_password = "{snmpd.priv_password}"
"""
        with agent_process(tmp_path, config) as agent:
            def snmp_up() -> bool:
                text = http_get(f"{agent.url}/metrics").decode()
                return 'regie_snmp_up{target="lab-switch"} 1.0' in text

            def pushed_with_snmp() -> list:
                return [r for r in receiver.delivered()
                        if any(o["source"] == "snmp" for o in r.json["document"]["observations"])]

            # Bounds for a poll or push that never comes: a busy 2-CPU machine takes up to a
            # minute and a half for this test (the inventory alone is 10-30 s).
            wait_for(snmp_up, timeout=120, interval=0.2, what="the SNMP target to be polled")
            # The inventory is pushed at start and again when it changes: once the first SNMP
            # round has answered, the device's sysDescr is new content and must be pushed.
            (with_snmp, *_) = wait_for(pushed_with_snmp, timeout=120, interval=0.2,
                                       what="an inventory push carrying the SNMP observation")
            metrics = http_get(f"{agent.url}/metrics").decode()
            first = receiver.delivered()[0]
        log = (tmp_path / "agent.log").read_text()

    assert first.headers["authorization"] == "Bearer agent-token-e2e-0123456789"
    assert first.json["idempotency_key"] == first.key
    keys = [r.key for r in receiver.delivered()]
    assert len(set(keys)) == len(keys)  # a new document gets a new key
    document = with_snmp.json["document"]
    sources = {o["source"] for o in document["observations"]}
    assert {"os-release", "kernel", "dpkg", "snmp"} <= sources
    (snmp,) = [o for o in document["observations"] if o["source"] == "snmp"]
    assert snmp["raw"]["sysDescr"] == snmpd.sys_descr
    assert snmp["raw"]["target"] == "lab-switch"
    delivered = [line for line in metrics.splitlines()
                 if line.startswith('regie_agent_inventory_pushes_total{result="delivered"}')]
    assert float(delivered[0].split()[-1]) >= 2
    assert "regie_agent_spool_records 0.0" in metrics
    # No secret in the agent's own log, its metrics, or the pushed document.
    pushed = json.dumps(document)
    for secret in (*snmpd.credentials[:1], *snmpd.credentials[2:],
                   "agent-token-e2e-0123456789"):
        assert secret not in log
        assert secret not in metrics
        assert secret not in pushed
