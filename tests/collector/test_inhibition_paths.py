"""Inhibition on both alerting paths, real processes: the lesser alert of a problem attaches to
the graver one's ticket instead of paging.

1. Embedded: a real agent, the real collector evaluating two rules that are certainly breached
   on any host (total memory above zero), one declared to inhibit the other.
2. Alertmanager: alerts posted to a real Alertmanager, delivered to the collector's webhook.
   With the shipped configuration Alertmanager holds the lesser alert back itself; with a
   configuration lacking the inhibit rules it delivers it, and the collector attaches it.
"""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import UTC, datetime, timedelta

from tests.agent.conftest import agent_process
from tests.collector.conftest import collector_process, evaluator_config
from tests.collector.test_alertmanager_real import local_config, post_alerts
from tests.services import wait_for

RULES = """
rules:
  - name: MemoryPresent
    metric: regie_memory_total_bytes
    op: ">"
    value: 0
    urgency: high
    component: memory
    summary: "{{ host }} has memory"
  - name: MemoryAlsoPresent
    metric: regie_memory_total_bytes
    op: ">"
    value: 1
    urgency: low
    component: memory
    summary: "{{ host }} still has memory"
inhibit_rules:
  - source_matchers: ['alertname="MemoryPresent"']
    target_matchers: ['alertname="MemoryAlsoPresent"']
    equal: [host]
"""


def all_tickets(collector) -> list[dict]:
    status, body = collector.call("GET", "/api/v1/tickets?include_attached=true",
                                  token="viewer")
    assert status == 200, body
    return body["tickets"]


def test_embedded_evaluator_attaches_the_inhibited_alert(tmp_path, sqlite_db):
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    with agent_process(agent_dir) as agent:
        config = evaluator_config(tmp_path, RULES, {agent.port: None})
        with collector_process(tmp_path, sqlite_db, config) as collector:
            tickets = wait_for(lambda: (t := all_tickets(collector)) and len(t) == 2 and t,
                               timeout=60, interval=0.3, what="both evaluator tickets")
            queue = collector.call("GET", "/api/v1/tickets", token="viewer")[1]["tickets"]
    by_rule = {t["dedup_key"].split(":")[1]: t for t in tickets}
    source, target = by_rule["MemoryPresent"], by_rule["MemoryAlsoPresent"]
    assert (source["parent_id"], target["parent_id"]) == (None, source["id"])
    assert [t["id"] for t in queue] == [source["id"]]      # the queue shows one problem


def alert(name: str, now: datetime) -> dict:
    return {"labels": {"alertname": name, "host": "web-01", "instance": "web-01:9847",
                       "mountpoint": "/var", "device": "/dev/sda2", "component": "filesystem",
                       "urgency": "high" if name == "FilesystemAlmostFull" else "medium"},
            "annotations": {"summary": f"{name} on web-01"},
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}


def test_alertmanager_path_attaches_what_alertmanager_delivers(tmp_path, sqlite_db,
                                                               start_alertmanager):
    with collector_process(tmp_path, sqlite_db) as collector:
        shipped = local_config(tmp_path, collector.url, collector.tokens["ingest"])
        assert "inhibit_rules:" in shipped
        # An Alertmanager whose configuration lacks the inhibit rules delivers both alerts.
        without = re.sub(r"\ninhibit_rules:.*", "\n", shipped, flags=re.DOTALL)
        alertmanager = start_alertmanager(without)
        now = datetime.now(UTC)
        post_alerts(alertmanager.url, [alert("FilesystemAlmostFull", now)])
        wait_for(lambda: len(all_tickets(collector)) == 1, timeout=30, interval=0.2,
                 what="the graver alert's ticket")
        post_alerts(alertmanager.url, [alert("FilesystemAlmostFull", now),
                                       alert("FilesystemFilling", now)])
        tickets = wait_for(lambda: (t := all_tickets(collector)) and len(t) == 2 and t,
                           timeout=30, interval=0.2, what="the lesser alert, delivered")
    by_name = {t["summary"].split()[0]: t for t in tickets}
    source, target = by_name["FilesystemAlmostFull"], by_name["FilesystemFilling"]
    assert (source["parent_id"], target["parent_id"]) == (None, source["id"])


def test_shipped_alertmanager_holds_the_lesser_alert_back(tmp_path, sqlite_db,
                                                          start_alertmanager):
    with collector_process(tmp_path, sqlite_db) as collector:
        alertmanager = start_alertmanager(
            local_config(tmp_path, collector.url, collector.tokens["ingest"]))
        now = datetime.now(UTC)
        post_alerts(alertmanager.url, [alert("FilesystemAlmostFull", now)])
        wait_for(lambda: all_tickets(collector), timeout=30, interval=0.2,
                 what="the graver alert's ticket")
        post_alerts(alertmanager.url, [alert("FilesystemFilling", now)])

        def inhibited() -> bool:
            with urllib.request.urlopen(f"{alertmanager.url}/api/v2/alerts", timeout=10) as r:
                alerts = json.loads(r.read())
            return any(a["labels"]["alertname"] == "FilesystemFilling"
                       and a["status"]["inhibitedBy"] for a in alerts)

        wait_for(inhibited, timeout=30, interval=0.2, what="Alertmanager to inhibit it")
        # The same alert for another mount is not inhibited and goes out in the same group
        # (alertname, host): once its ticket is there, that group was sent without /var's.
        other = alert("FilesystemFilling", now)
        other["labels"]["mountpoint"] = "/"
        other["annotations"]["summary"] = "FilesystemFilling on web-01 for /"
        post_alerts(alertmanager.url, [other])
        tickets = wait_for(lambda: (t := all_tickets(collector)) and len(t) >= 2 and t,
                           timeout=30, interval=0.2, what="the other mount's ticket")
    assert sorted(t["summary"] for t in tickets) == [
        "FilesystemAlmostFull on web-01", "FilesystemFilling on web-01 for /"]
    assert all(t["parent_id"] is None for t in tickets)
