"""Changes through the real collector process on SQLite and PostgreSQL: create (hosts from
globs, risk with reasons), the state machine with its roles (self-approval refused), every
refused move a 409 or 403 with its reason and nothing written, bad input a 400 naming the
field and nothing written, the calendar (JSON and iCalendar) with conflicts, and the
changes-by-type-and-outcome metric read from the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerting.changes import TRANSITIONS, Action, ChangeStatus
from tests.collector.conftest import create_token

START = (datetime.now(UTC) + timedelta(days=3)).replace(hour=2, minute=0, second=0,
                                                        microsecond=0)


def _when(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def _hosts(collector, *names: str) -> None:
    """Make hosts known the way monitoring does: a ticket on each."""
    for name in names:
        status, body = collector.call("POST", "/api/v1/tickets",
                                      {"summary": f"disk on {name}", "host": name},
                                      token="responder")
        assert status == 201, body


def _draft(**fields):
    return {"type": "normal", "summary": "kernel upgrade", "hosts": ["web-*"],
            "planned_start": _when(0), "planned_end": _when(2),
            "timezone": "Europe/Amsterdam", **fields}


def _create(collector, token="responder", **fields) -> dict:
    status, body = collector.call("POST", "/api/v1/changes", _draft(**fields), token=token)
    assert status == 201, body
    return body


def _count(collector) -> int:
    status, body = collector.call("GET", "/api/v1/changes?limit=500", token="viewer")
    assert status == 200, body
    return len(body["changes"])


def _timeline(collector, change_id: int) -> list[dict]:
    status, body = collector.call("GET", f"/api/v1/changes/{change_id}", token="viewer")
    assert status == 200, body
    return body["timeline"]


def test_create_resolves_globs_scores_risk_and_shows_it(collector):
    _hosts(collector, "web-1", "web-2", "db-1")
    change = _create(collector, services=["shop"], tickets=[])
    assert change["status"] == "draft"
    assert change["hosts"] == ["web-1", "web-2"]
    assert change["host_patterns"] == ["web-*"]
    assert change["timezone"] == "Europe/Amsterdam"
    assert change["planned_start"] == START.isoformat()
    risk = change["risk"]
    assert risk["level"] in ("low", "medium", "high")
    # One reason per input, with its points: 3 systems (2 hosts + 1 service) and the tickets
    # just opened on both web hosts count as incidents.
    assert "+1 3 systems affected" in risk["reasons"]
    assert "+2 2 incidents on these systems in the last 90 days" in risk["reasons"]
    assert "+1 normal change" in risk["reasons"]
    assert risk["reasons"][-1] == f"score {risk['score']}: {risk['level']}"
    timeline = _timeline(collector, change["id"])
    assert [e["kind"] for e in timeline] == ["created"]
    assert timeline[0]["data"]["hosts"] == ["web-1", "web-2"]


@pytest.mark.parametrize(("fields", "reason"), [
    ({"hosts": ["web-9"]}, "hosts: 'web-9' is not a known host"),
    ({"hosts": ["mail-*"]}, "hosts: 'mail-*' matches no known host"),
    ({"planned_end": _when(-1)}, "planned_end: must be after planned_start"),
    ({"planned_end": _when(0)}, "planned_end: must be after planned_start"),
    ({"planned_end": _when(24 * 40)}, "planned_end: the window may last at most 31 days"),
    ({"timezone": "Europe/Amsterdamm"}, "timezone: unknown time zone 'Europe/Amsterdamm'"),
    ({"planned_start": "2026-03-01T02:00:00"}, "planned_start: not an RFC 3339 time"),
    ({"type": "urgent"}, "type: must be one of 'standard', 'normal', 'emergency'"),
    ({"tickets": [2_000_000]}, "tickets: no ticket 2000000"),
    ({"summary": " "}, "summary: must not be empty"),
    ({"colour": "red"}, "colour: unknown field"),
    ({"packages": [{"name": "openssl", "arch": "x86_64"}]}, "packages[0].arch: unknown field"),
])
def test_bad_input_is_400_naming_the_field_and_nothing_written(collector, fields, reason):
    _hosts(collector, "web-1")
    status, body = collector.call("POST", "/api/v1/changes", _draft(**fields),
                                  token="responder")
    assert status == 400, body
    assert body["error"].startswith(reason), body
    assert _count(collector) == 0


def test_a_viewer_may_not_create_and_a_responder_may_not_approve(collector):
    _hosts(collector, "web-1")
    status, body = collector.call("POST", "/api/v1/changes", _draft(), token="viewer")
    assert status == 403, body
    assert _count(collector) == 0
    change = _create(collector)
    assert collector.call("POST", f"/api/v1/changes/{change['id']}/submit",
                          token="responder")[0] == 200
    status, body = collector.call("POST", f"/api/v1/changes/{change['id']}/approve",
                                  {"reason": "fine"}, token="admin")
    assert status == 200, body   # admin may approve (and is not the author)


def test_normal_change_lifecycle_with_approval_by_a_second_person(collector):
    _hosts(collector, "web-1")
    manager = create_token(collector.db, "change_manager", "carol")
    other = create_token(collector.db, "change_manager", "dave")
    change = _create(collector, token=manager)
    assert change["author"] == "carol"
    path = f"/api/v1/changes/{change['id']}"
    status, body = collector.call("POST", path + "/submit", token=manager)
    assert (status, body["status"]) == (200, "submitted"), body
    # The responder role may work on changes but not decide them.
    status, body = collector.call("POST", path + "/approve", token="responder")
    assert status == 403, body
    assert body["error"] == ("role 'responder' may not approve changes (roles that may: "
                             "admin, change_manager)")
    # The author may not approve their own change, even as a change manager.
    status, body = collector.call("POST", path + "/approve", token=manager)
    assert status == 403, body
    assert body["error"].startswith("carol is the change's author and may not approve it")
    assert [e["kind"] for e in _timeline(collector, change["id"])] == ["created", "submitted"]
    status, body = collector.call("POST", path + "/approve", {"reason": "plan reviewed"},
                                  token=other)
    assert status == 200, body
    assert (body["status"], body["approver"], body["decision_reason"]) == (
        "approved", "dave", "plan reviewed")
    status, body = collector.call("POST", path + "/start", token="responder")
    assert (status, body["status"]) == (200, "in_progress"), body
    assert body["actual_start"] is not None
    status, body = collector.call("POST", path + "/complete", {}, token="responder")
    assert status == 400 and body["error"] == "outcome: must be one of 'successful', " \
        "'failed', 'rolled_back'", body
    status, body = collector.call("POST", path + "/complete",
                                  {"outcome": "rolled_back", "reason": "boot loop"},
                                  token="responder")
    assert (status, body["status"], body["outcome"]) == (200, "completed", "rolled_back")
    assert body["review_due"] is False   # only emergency changes must be reviewed
    status, body = collector.call("POST", path + "/review", {"reason": "lessons noted"},
                                  token=other)
    assert (status, body["status"]) == (200, "reviewed"), body
    kinds = [e["kind"] for e in _timeline(collector, change["id"])]
    assert kinds == ["created", "submitted", "approved", "started", "completed", "reviewed"]


def test_standard_change_is_approved_when_submitted(collector):
    _hosts(collector, "web-1")
    change = _create(collector, type="standard")
    path = f"/api/v1/changes/{change['id']}"
    status, body = collector.call("POST", path + "/submit", token="responder")
    assert (status, body["status"]) == (200, "approved"), body
    assert body["decision_reason"] == "pre-approved (standard change)"
    status, body = collector.call("POST", path + "/approve", token="admin")
    assert status == 409, body
    assert "cannot approve a change that is approved" in body["error"]
    kinds = [e["kind"] for e in _timeline(collector, change["id"])]
    assert kinds == ["created", "submitted", "approved"]


def test_emergency_change_starts_before_approval_and_must_be_reviewed(collector):
    _hosts(collector, "db-1")
    change = _create(collector, type="emergency", hosts=["db-1"])
    path = f"/api/v1/changes/{change['id']}"
    assert collector.call("POST", path + "/submit", token="responder")[0] == 200
    status, body = collector.call("POST", path + "/start", token="responder")
    assert (status, body["status"]) == (200, "in_progress"), body
    status, body = collector.call("POST", path + "/complete", {"outcome": "successful"},
                                  token="responder")
    assert body["review_due"] is True
    # The review needs a change manager: a responder may not give it.
    status, body = collector.call("POST", path + "/review", token="responder")
    assert status == 403, body
    status, body = collector.call("POST", path + "/review", token="change_manager")
    assert (status, body["status"], body["review_due"]) == (200, "reviewed", False)


def test_a_normal_change_may_not_start_before_approval(collector):
    _hosts(collector, "web-1")
    change = _create(collector)
    path = f"/api/v1/changes/{change['id']}"
    collector.call("POST", path + "/submit", token="responder")
    status, body = collector.call("POST", path + "/start", token="responder")
    assert status == 409, body
    assert body["error"] == ("a normal change starts only once approved (it is submitted); "
                             "only emergency changes may start before approval")
    assert body["change_status"] == "submitted"


# Drives a change of each type to each state through the API, then tries every action that
# the table does not allow from there: 409 with the reason, and nothing written.
_PATHS = {
    ChangeStatus.DRAFT: [],
    ChangeStatus.SUBMITTED: [("submit", None)],
    ChangeStatus.APPROVED: [("submit", None), ("approve", {"reason": "ok"})],
    ChangeStatus.REJECTED: [("submit", None), ("reject", {"reason": "no"})],
    ChangeStatus.IN_PROGRESS: [("submit", None), ("approve", {}), ("start", None)],
    ChangeStatus.COMPLETED: [("submit", None), ("approve", {}), ("start", None),
                             ("complete", {"outcome": "successful"})],
    ChangeStatus.REVIEWED: [("submit", None), ("approve", {}), ("start", None),
                            ("complete", {"outcome": "failed"}), ("review", {})],
}
_BODIES = {Action.REJECT: {"reason": "r"}, Action.COMPLETE: {"outcome": "successful"}}


@pytest.mark.parametrize("state", list(ChangeStatus), ids=lambda s: s.value)
def test_every_refused_move_is_409_with_the_reason_and_writes_nothing(collector, state):
    _hosts(collector, "web-1")
    change = _create(collector)
    path = f"/api/v1/changes/{change['id']}"
    answer = change
    for action, body in _PATHS[state]:
        # admin decides: the author is the responder token.
        token = "admin" if action in ("approve", "reject", "review") else "responder"
        status, answer = collector.call("POST", f"{path}/{action}", body, token=token)
        assert status == 200, (action, answer)
    assert answer["status"] == state.value
    before = _timeline(collector, change["id"])
    refused = [a for a in Action if (state, a) not in TRANSITIONS]
    assert refused, state
    for action in refused:
        status, body = collector.call("POST", f"{path}/{action.value}",
                                      _BODIES.get(action), token="admin")
        assert status == 409, (action, body)
        assert body["error"].startswith(f"cannot {action.value} a change that is "
                                        f"{state.value}"), body
        assert body["change_status"] == state.value
    assert _timeline(collector, change["id"]) == before
    status, now = collector.call("GET", path, token="viewer")
    assert (now["status"], now["updated_at"]) == (state.value, answer["updated_at"])


def test_unknown_change_is_404(collector):
    assert collector.call("GET", "/api/v1/changes/999999", token="viewer")[0] == 404
    status, body = collector.call("POST", "/api/v1/changes/999999/submit", token="admin")
    assert (status, body) == (404, {"error": "no such change"})


def test_risk_override_is_recorded_and_needs_a_change_manager(collector):
    _hosts(collector, "web-1")
    change = _create(collector)
    path = f"/api/v1/changes/{change['id']}/risk"
    status, body = collector.call("POST", path, {"level": "high", "reason": "payroll week"},
                                  token="responder")
    assert status == 403, body
    status, body = collector.call("POST", path, {"level": "high", "reason": "payroll week"},
                                  token="change_manager")
    assert status == 200, body
    assert body["risk_level"] == "high"
    assert body["risk"]["level"] == change["risk"]["level"]   # the computed one is kept
    assert body["risk_override"]["reason"] == "payroll week"
    entry = _timeline(collector, change["id"])[-1]
    assert entry["kind"] == "risk_overridden"
    assert entry["message"] == (f"risk set to high (computed: {change['risk']['level']}): "
                                "payroll week")


def test_calendar_shows_conflicting_changes_on_one_host(collector):
    _hosts(collector, "web-1", "web-2")
    first = _create(collector, hosts=["web-1"])
    second = _create(collector, hosts=["web-*"], planned_start=_when(1), planned_end=_when(3))
    apart = _create(collector, hosts=["web-1"], planned_start=_when(2), planned_end=_when(4))
    for change in (first, second, apart):
        collector.call("POST", f"/api/v1/changes/{change['id']}/submit", token="responder")
    query = f"from={_when(-1)}&to={_when(10)}".replace("+", "%2B")
    status, body = collector.call("GET", f"/api/v1/changes/calendar?{query}", token="viewer")
    assert status == 200, body
    assert [c["id"] for c in body["changes"]] == [first["id"], second["id"], apart["id"]]
    warnings = {c["id"]: [(w["kind"], w["data"].get("change")) for w in c["conflicts"]]
                for c in body["changes"]}
    # first [0,2) and second [1,3) share web-1; apart [2,4) overlaps second only (web-1).
    assert warnings[first["id"]] == [("host_overlap", second["id"])]
    assert warnings[second["id"]] == [("host_overlap", first["id"]),
                                      ("host_overlap", apart["id"])]
    assert warnings[apart["id"]] == [("host_overlap", second["id"])]
    status, text = collector.call("GET", f"/api/v1/changes/calendar.ics?{query}",
                                  token="viewer")
    assert status == 200
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 3
    assert f"UID:change-{first['id']}@changes.regie" in text
    assert f"DTSTART:{START.strftime('%Y%m%dT%H%M%SZ')}" in text


def test_metric_counts_completed_changes_by_type_and_outcome(collector):
    _hosts(collector, "web-1")
    for change_type, outcome in (("normal", "failed"), ("normal", "failed"),
                                 ("emergency", "successful")):
        change = _create(collector, type=change_type)
        path = f"/api/v1/changes/{change['id']}"
        collector.call("POST", path + "/submit", token="responder")
        if change_type == "normal":
            collector.call("POST", path + "/approve", token="admin")
        collector.call("POST", path + "/start", token="responder")
        status, body = collector.call("POST", path + "/complete", {"outcome": outcome},
                                      token="responder")
        assert status == 200, body
    samples = _metrics(collector)
    assert samples['regie_changes_completed{outcome="failed",type="normal"}'] == 2
    assert samples['regie_changes_completed{outcome="successful",type="emergency"}'] == 1
    assert samples['regie_changes_completed{outcome="rolled_back",type="standard"}'] == 0
    assert samples["regie_changes_review_due"] == 1


def _metrics(collector) -> dict[str, float]:
    """The scrape's samples (waiting out the gauges' 5 s cache, bounded)."""
    import time

    deadline = time.monotonic() + 15
    while True:
        status, text = collector.call("GET", "/metrics", token="viewer")
        assert status == 200
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        if samples.get("regie_changes_review_due") or time.monotonic() > deadline:
            return samples
        time.sleep(0.5)


def test_incidents_after_a_failed_change_are_reported(collector):
    _hosts(collector, "web-1", "db-1")
    failed = _create(collector, hosts=["web-1"], type="emergency")
    fine = _create(collector, hosts=["db-1"], type="emergency")
    for change, outcome in ((failed, "failed"), (fine, "successful")):
        path = f"/api/v1/changes/{change['id']}"
        for action, body in (("submit", None), ("start", None),
                             ("complete", {"outcome": outcome})):
            status, answer = collector.call("POST", f"{path}/{action}", body,
                                            token="responder")
            assert status == 200, answer
    # Opened after the work (actual times: just now), on the failed change's host and not.
    status, during = collector.call("POST", "/api/v1/tickets",
                                    {"summary": "5xx after the change", "host": "web-1"},
                                    token="responder")
    collector.call("POST", "/api/v1/tickets", {"summary": "unrelated", "host": "db-1"},
                   token="responder")
    status, body = collector.call("GET", "/api/v1/changes/incidents", token="viewer")
    assert status == 200, body
    assert (body["harmful_changes"], body["with_incidents"], body["after_hours"]) == (1, 1, 24)
    (only,) = body["changes"]
    assert (only["id"], only["outcome"]) == (failed["id"], "failed")
    assert [i["ticket"] for i in only["incidents"]] == [during["id"]]
