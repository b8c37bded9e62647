"""One rule file, two alerting paths, one queue, all real processes:

1. embedded: a real agent, the real collector whose evaluator scrapes it (no Prometheus);
2. Prometheus: `regie rules export` -> a real Prometheus scraping the same agent -> a real
   Alertmanager -> the collector's webhook.

The rule is one that is certainly breached on any host (total memory above zero), so the
ticket's appearance proves the path, not the host's state.
"""

from __future__ import annotations

import socket

from tests.agent.conftest import agent_process
from tests.collector.conftest import collector_process, regie
from tests.collector.test_alertmanager_real import local_config
from tests.services import wait_for

RULES = """
rules:
  - name: MemoryPresent
    metric: regie_memory_total_bytes
    op: ">"
    value: 0
    for: 0s
    urgency: low
    component: memory
    summary: "{{ host }} has {{ value | humanize1024 }}B of memory"
"""


def open_tickets(collector) -> list[dict]:
    return collector.call("GET", "/api/v1/tickets", token="viewer")[1]["tickets"]


def test_embedded_evaluator_path(tmp_path, sqlite_db):
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    with agent_process(agent_dir) as agent:
        config = f"""
[evaluator]
interval_seconds = 1
rules_file = "{rules}"
[[evaluator.targets]]
address = "127.0.0.1:{agent.port}"
"""
        with collector_process(tmp_path, sqlite_db, config) as collector:
            (ticket,) = wait_for(lambda: open_tickets(collector), timeout=60, interval=0.3,
                                 what="the evaluator's ticket")
    assert ticket["origin"] == "evaluator"
    assert ticket["host"] == socket.gethostname()
    assert ticket["component"] == "memory"
    assert ticket["summary"].startswith(f"{socket.gethostname()} has ")
    assert ticket["dedup_key"] == f"evaluator:MemoryPresent:{socket.gethostname()}"
    assert (ticket["urgency"], ticket["priority"]) == ("low", "P4")


def test_prometheus_path_with_exported_rules(tmp_path, sqlite_db, start_prometheus,
                                             start_alertmanager):
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    exported = tmp_path / "prometheus-rules.yml"
    regie("rules", "export", "--rules", str(rules), "--out", str(exported))
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    with agent_process(agent_dir) as agent, \
            collector_process(tmp_path, sqlite_db) as collector:
        alertmanager = start_alertmanager(
            local_config(tmp_path, collector.url, collector.tokens["ingest"]))
        start_prometheus([f"127.0.0.1:{agent.port}"], rule_files=[exported],
                         alertmanager=f"127.0.0.1:{alertmanager.port}")
        (ticket,) = wait_for(lambda: open_tickets(collector), timeout=90, interval=0.5,
                             what="the ticket from Prometheus -> Alertmanager")
    assert ticket["origin"] == "alertmanager"
    assert (ticket["component"], ticket["urgency"], ticket["priority"]) == ("memory", "low",
                                                                             "P4")
    # Prometheus knows the scrape address, not the agent's host name (documented difference).
    assert ticket["host"] == "127.0.0.1"
    assert ticket["summary"].startswith(f"127.0.0.1:{agent.port} has ")
