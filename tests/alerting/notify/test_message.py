from __future__ import annotations

import datetime as dt
import json

import pytest

from alerting.notify.message import Notification
from tests.alerting.notify.peers import NOW, notification


def test_to_json_is_the_documented_version_1_shape():
    n = notification(occurred_at=dt.datetime(2030, 1, 2, 4, 4, 5,
                                             tzinfo=dt.timezone(dt.timedelta(hours=1))))
    assert n.to_json() == {
        "version": 1,
        "kind": "trigger",
        "ticket_id": 42,
        "priority": "P1",
        "status": "open",
        "summary": "Disk /var 97% full",
        "host": "web1",
        "component": "disk",
        "step": "step 1 of 2: primary on-call",
        "reason": "new P1 ticket",
        "recipient": "alice",
        "occurred_at": "2030-01-02T03:04:05Z",
        "links": {
            "ticket": "https://regie.example.org/tickets/42",
            "ack": "https://regie.example.org/api/v1/actions/v1.42.ack.TOKEN-ACK",
            "resolve": "https://regie.example.org/api/v1/actions/v1.42.resolve.TOKEN-RES",
            "runbook": "https://wiki.example.org/runbooks/disk",
        },
    }
    json.dumps(n.to_json())  # plain JSON types only


@pytest.mark.parametrize(("overrides", "subject"), [
    ({}, "[P1] Disk /var 97% full (web1)"),
    ({"host": None}, "[P1] Disk /var 97% full"),
    ({"priority": "P3", "summary": "two\nlines\r\n  here"}, "[P3] two lines here (web1)"),
    ({"kind": "resolve"}, "[P1] RESOLVED: Disk /var 97% full (web1)"),
])
def test_subject_is_one_line(overrides, subject):
    assert notification(**overrides).subject() == subject


def test_text_has_facts_and_links():
    text = notification().text()
    assert text.startswith("New ticket #42: Disk /var 97% full\n")
    for line in ("Host: web1", "Component: disk", "Step: step 1 of 2: primary on-call",
                 "For: alice", "When: 2030-01-02T03:03:05Z",
                 "Acknowledge: https://regie.example.org/api/v1/actions/v1.42.ack.TOKEN-ACK",
                 "Resolve: https://regie.example.org/api/v1/actions/v1.42.resolve.TOKEN-RES",
                 "Runbook: https://wiki.example.org/runbooks/disk"):
        assert line in text.splitlines()


def test_text_leaves_out_what_is_unset():
    n = Notification(ticket_id=7, kind="escalate", priority="P2", summary="x", status="open",
                     occurred_at=NOW)
    assert n.text() == ("Escalated ticket #7: x\n\nPriority: P2\nStatus: open\n"
                        "When: 2030-01-02T03:04:05Z\n")


def test_repr_hides_the_action_links():
    shown = repr(notification())
    assert "TOKEN-ACK" not in shown and "TOKEN-RES" not in shown
    assert "ticket_id=42" in shown


@pytest.mark.parametrize(("overrides", "message"), [
    ({"kind": "page"}, "kind must be one of"),
    ({"priority": "P5"}, "priority must be one of P1..P4"),
    ({"occurred_at": dt.datetime(2030, 1, 1)}, "timezone-aware"),
])
def test_invalid_notifications_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        notification(**overrides)


def test_is_frozen_and_slotted():
    n = notification()
    with pytest.raises(AttributeError):
        n.summary = "other"  # type: ignore[misc]
    assert not hasattr(n, "__dict__")


def test_repr_hides_the_ticket_page_link():
    shown = repr(notification(ticket_url="https://regie.example.org/ui/tickets/42?key=VIEW-KEY"))
    assert "VIEW-KEY" not in shown


def test_a_priority_change_is_not_a_new_ticket():
    n = notification(kind="priority_changed", priority="P2", step="step 1 of 2: primary",
                     reason="priority changed P3 → P2 by dave: payroll runs tonight")
    assert n.headline() == "Priority changed on ticket #42"
    assert n.to_json()["kind"] == "priority_changed"
    assert "Reason: priority changed P3 → P2 by dave: payroll runs tonight" in n.text()
    assert "New ticket" not in n.text()
