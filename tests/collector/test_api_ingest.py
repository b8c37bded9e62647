"""Ingestion through the real collector process (SQLite and PostgreSQL): the Alertmanager
webhook (a payload captured from a real Alertmanager), the Events API, user reports, inventory."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / \
    "alertmanager_webhook_firing.json"


@pytest.fixture
def webhook() -> dict:
    return json.loads(FIXTURE.read_text())


def tickets(collector, **query) -> list[dict]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    status, body = collector.call("GET", f"/api/v1/tickets?{qs}", token="viewer")
    assert status == 200, body
    return body["tickets"]


def test_alertmanager_fire_repeat_resolve(collector, webhook):
    status, body = collector.call("POST", "/api/v1/alertmanager", webhook, token="ingest")
    assert (status, body["created"]) == (200, 1)
    (ticket,) = tickets(collector)
    assert ticket["dedup_key"] == "alertmanager/5f76ffd3814b31e4"
    assert (ticket["source"], ticket["origin"]) == ("monitoring", "alertmanager")
    # severity critical -> urgency high; default criticality medium -> P2 (default matrix).
    assert (ticket["urgency"], ticket["impact"], ticket["priority"]) == ("high", "medium", "P2")

    # Alertmanager re-sends the same group (retry or repeat_interval): a repeat, not a ticket.
    status, body = collector.call("POST", "/api/v1/alertmanager", webhook, token="ingest")
    assert (status, body["repeated"]) == (200, 1)
    (ticket,) = tickets(collector)
    assert ticket["occurrences"] == 2

    resolved = copy.deepcopy(webhook)
    resolved["status"] = resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2026-11-29T19:55:08.829Z"
    status, body = collector.call("POST", "/api/v1/alertmanager", resolved, token="ingest")
    assert (status, body["resolved"]) == (200, 1)
    assert tickets(collector) == []
    (done,) = tickets(collector, status="resolved")
    assert done["id"] == ticket["id"]

    # Firing again after resolve opens a new ticket; history stays.
    collector.call("POST", "/api/v1/alertmanager", webhook, token="ingest")
    (again,) = tickets(collector)
    assert again["id"] != ticket["id"]


def test_criticality_and_matrix_from_config(tmp_path, sqlite_db, webhook):
    from tests.collector.conftest import collector_process

    config = """
[criticality]
default = "low"
[criticality.hosts]
"127.0.0.*" = "business-critical"
"""
    with collector_process(tmp_path, sqlite_db, config) as collector:
        collector.call("POST", "/api/v1/alertmanager", webhook, token="ingest")
        (ticket,) = tickets(collector)
    assert (ticket["impact"], ticket["priority"]) == ("business-critical", "P1")


def test_events_api_like_pagerduty(collector):
    event = {"routing_key": collector.tokens["ingest"], "event_action": "trigger",
             "dedup_key": "srv01/disk",
             "payload": {"summary": "Disk almost full", "source": "srv01",
                         "severity": "warning", "component": "disk"}}
    status, body = collector.call("POST", "/api/v1/events", event, token=None)
    assert (status, body) == (202, {"status": "success", "message": "Event processed",
                                    "dedup_key": "srv01/disk"})
    (ticket,) = tickets(collector)
    assert (ticket["host"], ticket["component"], ticket["urgency"]) == ("srv01", "disk", "medium")

    ack = {"routing_key": collector.tokens["ingest"], "event_action": "acknowledge",
           "dedup_key": "srv01/disk"}
    assert collector.call("POST", "/api/v1/events", ack, token=None)[0] == 202
    assert tickets(collector)[0]["status"] == "acknowledged"

    resolve = {**ack, "event_action": "resolve"}
    assert collector.call("POST", "/api/v1/events", resolve, token=None)[0] == 202
    assert tickets(collector) == []

    # acknowledge/resolve of an unknown key change nothing (and still answer 202)
    unknown = {**ack, "dedup_key": "never-seen"}
    assert collector.call("POST", "/api/v1/events", unknown, token=None)[0] == 202
    assert collector.call("POST", "/api/v1/events", {**unknown, "event_action": "resolve"},
                          token=None)[0] == 202
    assert tickets(collector, status="open,acknowledged,resolved,closed")[0]["id"] == \
        ticket["id"]
    assert len(tickets(collector, status="open,acknowledged,resolved,closed")) == 1

    # a trigger after resolve opens a new ticket
    collector.call("POST", "/api/v1/events", event, token=None)
    (new,) = tickets(collector)
    assert new["id"] != ticket["id"]


@pytest.mark.parametrize(
    ("key", "status"),
    [("regie_not-a-token", 401), ("viewer", 403), ("agent", 403)],
)
def test_events_routing_key_must_be_an_ingest_token(collector, key, status):
    event = {"routing_key": collector.tokens.get(key, key), "event_action": "trigger",
             "payload": {"summary": "x", "source": "y", "severity": "info"}}
    code, body = collector.call("POST", "/api/v1/events", event, token=None)
    assert (code, body["status"]) == (status, "invalid event")
    assert tickets(collector) == []


def test_user_report_same_queue_same_priority_function(collector):
    report = {"summary": "Payroll export fails", "reporter": "anna", "host": "pay-01",
              "impact": "high", "urgency": "high", "component": "export"}
    status, ticket = collector.call("POST", "/api/v1/tickets", report, token="responder")
    assert status == 201, ticket
    assert (ticket["source"], ticket["reporter"], ticket["priority"]) == ("user", "anna", "P1")
    listed = tickets(collector, source="user")
    assert [t["id"] for t in listed] == [ticket["id"]]
    assert tickets(collector, source="monitoring") == []


def test_inventory_is_idempotent(collector):
    push = {"idempotency_key": "k-1", "document": {
        "schema": "regie.inventory/v1", "host": {"hostname": "web-01"},
        "observations": [{"source": "dpkg", "raw": {"package": "nginx", "version": "1.22.1-9"}}]}}
    headers = {"Idempotency-Key": "k-1"}
    assert collector.call("POST", "/api/v1/inventory", push, token="agent",
                          headers=headers) == (202, {"status": "stored", "host": "web-01"})
    assert collector.call("POST", "/api/v1/inventory", push, token="agent",
                          headers=headers) == (200, {"status": "duplicate", "host": "web-01"})


def test_host_down_inhibits_the_hosts_other_alerts(collector, webhook):
    down = copy.deepcopy(webhook)
    down["alerts"][0].update(fingerprint="aaaa000000000001",
                             labels={"alertname": "RegieAgentDown", "instance": "db-01:9847"})
    disk = copy.deepcopy(webhook)
    disk["alerts"][0].update(fingerprint="aaaa000000000002",
                             labels={"alertname": "DiskFull", "instance": "db-01:9847"})
    other = copy.deepcopy(webhook)
    other["alerts"][0].update(fingerprint="aaaa000000000003",
                              labels={"alertname": "DiskFull", "instance": "web-02:9847"})
    for payload in (down, disk, other):
        collector.call("POST", "/api/v1/alertmanager", payload, token="ingest")
    queue = tickets(collector)
    assert sorted(t["host"] for t in queue) == ["db-01", "web-02"]
    parent = next(t for t in queue if t["host"] == "db-01")
    status, shown = collector.call("GET", f"/api/v1/tickets/{parent['id']}", token="viewer")
    assert status == 200
    assert [a["dedup_key"] for a in shown["attached"]] == ["alertmanager/aaaa000000000002"]
    assert any(e["kind"] == "attached" for e in shown["timeline"])
    all_with_children = tickets(collector, include_attached="true")
    assert len(all_with_children) == 3
