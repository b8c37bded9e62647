"""Alertmanager webhook v4 -> Signals, starting from a payload captured from a real Alertmanager."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerting.ticket import Action, Recovery, Urgency
from collector.payloads.alertmanager import host_of, parse_webhook
from collector.payloads.fields import BadPayload

NOW = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
FIXTURE = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / \
    "alertmanager_webhook_firing.json"


@pytest.fixture
def captured() -> dict:
    return json.loads(FIXTURE.read_text())


def test_captured_payload(captured):
    (signal,) = parse_webhook(captured, now=NOW)
    assert signal.dedup_key == "alertmanager/5f76ffd3814b31e4"
    assert signal.action == Action.TRIGGER
    assert signal.summary == "demo_value is 100 on 127.0.0.1:18000"
    assert signal.host == "127.0.0.1"
    assert signal.service == "pyexporter"
    assert signal.urgency == Urgency.HIGH  # severity critical
    assert signal.occurred_at == datetime(2026, 11, 29, 19, 50, 8, 829000, tzinfo=UTC)
    assert signal.details["labels"]["alertname"] == "DemoValueHigh"


def test_resolved_uses_ends_at(captured):
    alert = captured["alerts"][0]
    alert["status"] = "resolved"
    alert["endsAt"] = "2026-11-29T19:55:00.123456789Z"  # Go's nanoseconds
    (signal,) = parse_webhook(captured, now=NOW)
    assert signal.action == Action.RESOLVE
    assert signal.occurred_at == datetime(2026, 11, 29, 19, 55, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("labels", "urgency", "recovery", "host_down"),
    [
        ({"severity": "warning"}, Urgency.MEDIUM, Recovery.RESOLVE, False),
        ({"severity": "info"}, Urgency.LOW, Recovery.RESOLVE, False),
        ({"severity": "critical", "urgency": "low"}, Urgency.LOW, Recovery.RESOLVE, False),
        ({"regie_recovery": "confirm"}, Urgency.MEDIUM, Recovery.CONFIRM, False),
        ({"alertname": "RegieAgentDown"}, Urgency.MEDIUM, Recovery.RESOLVE, True),
        ({"regie_host_down": "true"}, Urgency.MEDIUM, Recovery.RESOLVE, True),
    ],
)
def test_label_conventions(captured, labels, urgency, recovery, host_down):
    captured["alerts"][0]["labels"] = {"alertname": "X", **labels}
    (signal,) = parse_webhook(captured, now=NOW)
    assert (signal.urgency, signal.recovery, signal.host_down) == (urgency, recovery, host_down)


@pytest.mark.parametrize(
    ("labels", "host"),
    [
        ({"instance": "web-01:9847"}, "web-01"),
        ({"instance": "[2001:db8::1]:9100"}, "2001:db8::1"),
        ({"instance": "db-01"}, "db-01"),
        ({"instance": "x:9100", "host": "real"}, "real"),
        ({}, None),
    ],
)
def test_host_of(labels, host):
    assert host_of(labels) == host


def mutate(payload: dict, path: str, value) -> dict:
    out = copy.deepcopy(payload)
    node = out
    *parents, last = path.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("alerts", None, "alerts: must be an array"),
        ("alerts", "x", "alerts: must be an array"),
        ("version", "3", "version: only webhook version '4'"),
        ("alerts.0.status", "pending", "alerts[0].status: must be 'firing' or 'resolved'"),
        ("alerts.0.fingerprint", KeyError, "alerts[0].fingerprint: is required"),
        ("alerts.0.fingerprint", 7, "alerts[0].fingerprint: must be a string"),
        ("alerts.0.labels", {"a": 1}, "alerts[0].labels.a: must be a string"),
        ("alerts.0.labels", [], "alerts[0].labels: must be an object"),
        ("alerts.0.startsAt", "yesterday", "alerts[0].startsAt: not an RFC 3339 timestamp"),
        ("alerts.0.startsAt", "2026-11-29T19:50:08", "alerts[0].startsAt: needs a time zone"),
    ],
)
def test_bad_payloads_name_the_field(captured, path, value, reason):
    with pytest.raises(BadPayload) as err:
        parse_webhook(mutate(captured, path, value), now=NOW)
    assert str(err.value).startswith(reason)


def test_not_an_object():
    with pytest.raises(BadPayload, match="body: must be an object"):
        parse_webhook([1, 2], now=NOW)
