"""A maintenance window's matcher or host glob costs an alert no more than its labels' length.

Real collector process (`regie collector run`) on SQLite and PostgreSQL. Python's re
backtracks: a window matching `x=~"(a+)+b"` made an alert whose label x held 24 a's wait
0.6 s in the intake, 30 a's minutes, and every other sender's alerts waited behind it; a host
glob `*a*a*a*a*a*a*b` did the same with a 200-character host. Regexes and globs are matched by
RE2 now (Alertmanager's syntax and semantics: Go's regexp is RE2), and what RE2 cannot read
(a backreference) is refused when the window is added.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.collector.conftest import collector_process


@pytest.fixture
def collector(tmp_path, collector_db):
    with collector_process(tmp_path, collector_db) as service:
        yield service


def window(collector, **scope) -> int:
    start = datetime.now(UTC) - timedelta(minutes=1)
    status, answer = collector.call("POST", "/api/v1/maintenance", {
        "name": "costly", "start": start.isoformat(), "duration": "2h", **scope},
        token="responder")
    assert status == 201, answer
    return answer["id"]


def alert(fingerprint: str, **labels: str) -> dict:
    return {"version": "4", "status": "firing", "alerts": [{
        "status": "firing", "fingerprint": fingerprint, "startsAt": "2026-12-07T10:00:00Z",
        "labels": {"alertname": "Costly", **labels}, "annotations": {"summary": "s"}}]}


def test_a_backtracking_matcher_or_glob_costs_an_alert_nothing_more(collector):
    window(collector, matchers=['x=~"(a+)+b"'])
    window(collector, hosts=["*a*a*a*a*a*a*a*a*b"])
    # Each would take hours with a backtracking matcher (the client gives up after 30 s).
    sent = [alert("by-label", x="a" * 4000 + "c"), alert("by-host", host="a" * 250),
            alert("held", x="a" * 40 + "b"), alert("held-host", host="a" * 20 + "b")]
    for body in sent:
        status, answer = collector.call("POST", "/api/v1/alertmanager", body, token="ingest")
        assert status == 200, answer
    status, listed = collector.call("GET", "/api/v1/tickets?status=open&limit=50",
                                    token="viewer")
    assert status == 200
    held = {t["dedup_key"]: t.get("maintenance") is not None for t in listed["tickets"]}
    assert held == {"alertmanager/by-label": False, "alertmanager/by-host": False,
                    "alertmanager/held": True, "alertmanager/held-host": True}, listed


@pytest.mark.parametrize("matcher", ['x=~"(a)\\\\1"', 'x=~"a(?=b)"'])
def test_a_matcher_re2_cannot_read_is_refused(collector, matcher):
    start = datetime.now(UTC).isoformat()
    status, answer = collector.call("POST", "/api/v1/maintenance", {
        "name": "w", "start": start, "duration": "1h", "matchers": [matcher]},
        token="responder")
    assert status == 409, answer
    assert answer["error"].startswith("matchers[0]: "), answer
    assert "RE2 syntax" in answer["error"], answer
