"""PagerDuty Events API v2 events -> Signals (the documented example shapes)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerting.ticket import Action, Urgency
from collector.payloads.events import parse_event
from collector.payloads.fields import BadPayload

NOW = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
TRIGGER = {
    "routing_key": "regie_abc",
    "event_action": "trigger",
    "dedup_key": "srv01/disk",
    "payload": {
        "summary": "Disk almost full on srv01", "source": "srv01", "severity": "critical",
        "timestamp": "2026-11-29T19:00:00.000+01:00", "component": "disk", "group": "prod-web",
        "class": "disk", "custom_details": {"free": "2%"},
    },
}


def test_trigger():
    event = parse_event(TRIGGER, now=NOW)
    assert event.dedup_key == "srv01/disk"
    signal = event.signal
    assert signal.dedup_key == "events/srv01/disk"
    assert (signal.action, signal.urgency) == (Action.TRIGGER, Urgency.HIGH)
    assert (signal.host, signal.component, signal.service) == ("srv01", "disk", "prod-web")
    assert signal.occurred_at == datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
    assert signal.details["custom_details"] == {"free": "2%"}


def test_trigger_without_dedup_key_gets_one():
    body = {**TRIGGER}
    del body["dedup_key"]
    first, second = parse_event(body, now=NOW), parse_event(body, now=NOW)
    assert first.dedup_key and first.dedup_key != second.dedup_key


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_ack_and_resolve_need_only_the_key(action):
    event = parse_event({"routing_key": "regie_abc", "event_action": action,
                         "dedup_key": "srv01/disk"}, now=NOW)
    assert event.signal.action == Action(action)
    assert event.signal.dedup_key == "events/srv01/disk"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"event_action": "snooze"}, "event_action: must be one of"),
        ({"routing_key": None}, "routing_key: is required"),
        ({"payload": None}, "payload: must be an object"),
        ({"payload": {"source": "s", "severity": "critical"}}, "payload.summary: is required"),
        ({"payload": {"summary": "s", "source": "s", "severity": "fatal"}},
         "payload.severity: must be one of"),
        ({"payload": {"summary": "s", "severity": "info"}}, "payload.source: is required"),
        ({"dedup_key": "x" * 256}, "dedup_key: longer than 255"),
    ],
)
def test_invalid_events(change, reason):
    with pytest.raises(BadPayload, match=reason):
        parse_event({**TRIGGER, **change}, now=NOW)


def test_resolve_needs_dedup_key():
    with pytest.raises(BadPayload, match="dedup_key: is required"):
        parse_event({"routing_key": "k", "event_action": "resolve"}, now=NOW)
