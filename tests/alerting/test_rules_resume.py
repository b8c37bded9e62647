"""Resuming evaluation from the evaluator's active tickets (alerting.rules.resumed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerting.rules import Evaluation, Sample, parse_rules, resumed
from alerting.ticket import Action

RULES = parse_rules({"rules": [
    {"name": "FilesystemFilling", "metric": "regie_filesystem_used_ratio", "op": ">",
     "value": 0.9, "for": "10m", "urgency": "medium", "component": "filesystem",
     "summary": "{{ labels.mountpoint }} full"},
    {"name": "AgentDown", "metric": "up", "op": "==", "value": 0, "urgency": "high",
     "component": "host", "host_down": True, "summary": "{{ host }} down"},
]}, source="t")
T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
DISK = {"mountpoint": "/var", "device": "/dev/sda2"}


def fired() -> list:
    """What a first evaluator fired, as its tickets store it: (key, host, details)."""
    full = {"web-01": [Sample("regie_filesystem_used_ratio", DISK, 0.95)]}
    up = {"web-01": True, "web-02": False}
    first, state = Evaluation(RULES).step(full, now=T0, up=up)          # AgentDown at once
    later, _ = state.step(full, now=T0 + timedelta(minutes=10), up=up)  # Filling after `for`
    return [(s.dedup_key, s.host, s.details) for s in [*first, *later]]


def test_alerts_whose_condition_ended_meanwhile_resolve_at_the_first_step():
    tickets = fired()
    assert sorted(k for k, _, _ in tickets) == [
        "evaluator:AgentDown:web-02",
        "evaluator:FilesystemFilling:web-01:device=/dev/sda2,mountpoint=/var"]
    state = resumed(RULES, tickets)
    assert len(state.firing) == 2 and state.pending == []
    later = T0 + timedelta(hours=1)
    signals, state = state.step({"web-01": [Sample("regie_filesystem_used_ratio", DISK, 0.5)]},
                                now=later, up={"web-01": True, "web-02": True})
    assert sorted((s.dedup_key, s.action) for s in signals) == sorted(
        (key, Action.RESOLVE) for key, _, _ in tickets)
    assert state.alerts == {}


def test_alerts_still_breaching_stay_firing_without_a_second_trigger():
    state = resumed(RULES, fired())
    signals, state = state.step(
        {"web-01": [Sample("regie_filesystem_used_ratio", DISK, 0.99)]},
        now=T0 + timedelta(hours=1), up={"web-01": True, "web-02": False})
    assert signals == []
    assert len(state.firing) == 2


def test_tickets_that_do_not_fit_the_rules_are_left_alone():
    key, host, details = next(t for t in fired() if "Filesystem" in t[0])
    odd = [
        (key, host, {**details, "rule": "RemovedRule"}),
        (key, None, details),
        (key.replace("/var", "/srv"), host, details),              # key and labels disagree
        (key, host, {**details, "active_since": "yesterday"}),
        (key, host, {k: v for k, v in details.items() if k != "labels"}),
    ]
    assert resumed(RULES, odd).alerts == {}
    assert len(resumed(RULES, [(key, host, details)]).alerts) == 1
