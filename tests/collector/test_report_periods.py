"""Report periods at the calendar's ends are refused, not a 500 or a traceback.

The real collector process (`regie collector run`) on SQLite and PostgreSQL, and the real
`regie report governance` command. A period is compared with the period of the same length
before it and looks ahead to the quarter after it: `to=9999-12-31` overflowed adding the day
after it, and `from=0001-01-02&to=2020-01-01` or `from=2020-01-01&to=8999-12-30` the period
before it (500 on both backends, a traceback in the collector's log). The query values are
read in the form the OpenAPI document states (`2026-10-01`, `2026Q4`), no other.
"""

from __future__ import annotations

import pytest

from tests.collector.conftest import regie

GOVERNANCE = "/api/v1/reports/governance?"


@pytest.mark.parametrize(("query", "reason"), [
    ("from=2020-01-01&to=9999-12-31", "from: to (9999-12-31) is the calendar's last day"),
    ("from=2020-01-01&to=9999-12-30", "from: 2020-01-01..9999-12-30 is too long or too near"),
    ("from=2020-01-01&to=8999-12-30", "from: 2020-01-01..8999-12-30 is too long or too near"),
    ("from=0001-01-02&to=2020-01-01", "from: 0001-01-02..2020-01-01 is too long or too near"),
    ("from=0001-01-01&to=0001-01-01", "from: 0001-01-01..0001-01-01 is too long or too near"),
    ("quarter=0001Q1", "quarter: 0001Q1 is too long or too near"),
    ("from=20260101&to=2026-03-01", "from: '20260101' is not a date such as 2026-10-01"),
    ("from=2026-01-01&to=2026-W09-1", "to: '2026-W09-1' is not a date such as 2026-10-01"),
    ("quarter=%202026Q1", "quarter: ' 2026Q1' is not a quarter such as 2026Q4"),
])
def test_a_period_at_the_calendars_ends_or_written_otherwise_is_400(collector, query, reason):
    status, answer = collector.call("GET", GOVERNANCE + query, token="viewer")
    assert (status, answer["error"][:len(reason)]) == (400, reason), answer


@pytest.mark.parametrize("query", ["from=2000-01-01&to=2026-01-01", "quarter=0001Q2",
                                   "quarter=2026q1"])
def test_a_long_or_early_period_that_has_a_period_before_it_is_reported(collector, query):
    status, answer = collector.call("GET", GOVERNANCE + query, token="viewer")
    assert status == 200, answer
    assert answer["previous"]["end"] <= answer["period"]["start"]


def test_the_command_refuses_them_with_one_line(collector, tmp_path):
    for args in (["--quarter", "0001Q1"], ["--from", "0001-01-02", "--to", "2020-01-01"],
                 ["--from", "2020-01-01", "--to", "9999-12-30"]):
        done = regie("report", "governance", *args, "--format", "json", "--out",
                     str(tmp_path / "r.json"), "--db", collector.db, check=False)
        assert done.returncode == 2, done.stderr
        assert "too long or too near the calendar's ends" in done.stderr
        assert "Traceback" not in done.stderr
