"""Recurrence rules that would never finish are refused, against the real collector process.

`regie collector run` on SQLite and on PostgreSQL. A rule whose INTERVAL is 0 never moves on:
dateutil lists the same start for ever, so `POST /api/v1/maintenance` with
`FREQ=DAILY;INTERVAL=0` never answered while a thread of the collector spun and grew past a
gigabyte in 20 seconds. Several hours, minutes or seconds a day make a "daily" rule finer than
daily (`BYSECOND=0,...,59` is 86,400 starts a day, every one listed by the year's search).
Each is 409 naming the rule, nothing is stored, and the collector goes on answering.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

EVERY = ",".join(str(n) for n in range(60))


@pytest.mark.parametrize(("rule", "reason"), [
    ("FREQ=DAILY;INTERVAL=0", "rrule: INTERVAL must be a whole number from 1, not '0'"),
    ("FREQ=MONTHLY;INTERVAL=0;BYMONTHDAY=1", "rrule: INTERVAL must be a whole number from 1"),
    ("freq=yearly;interval=00", "rrule: INTERVAL must be a whole number from 1, not '00'"),
    ("FREQ=WEEKLY;INTERVAL=0_0", "rrule: INTERVAL must be a whole number from 1"),
    ("RRULE:FREQ=DAILY;INTERVAL=1;INTERVAL=0", "rrule: INTERVAL must be a whole number"),
    (f"FREQ=DAILY;BYMINUTE={EVERY}", "rrule: BYMINUTE takes one value"),
    (f"FREQ=DAILY;BYHOUR=1;BYMINUTE=0;BYSECOND={EVERY}", "rrule: BYSECOND takes one value"),
    ("FREQ=WEEKLY;BYHOUR=1,2", "rrule: BYHOUR takes one value"),
])
def test_a_rule_that_never_moves_on_or_is_finer_than_daily_is_refused(collector, rule, reason):
    # Starting soon: the year's search then runs through the rule.
    soon = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    body = {"name": "patching", "start": soon.isoformat(), "duration": "2h",
            "rrule": rule, "hosts": ["no-such-host-*"]}
    status, answer = collector.call("POST", "/api/v1/maintenance", body, token="responder")
    assert (status, answer["error"][:len(reason)]) == (409, reason), answer
    status, listed = collector.call("GET", "/api/v1/maintenance?all=true", token="viewer")
    assert status == 200 and [w for w in listed["windows"] if w["name"] == "patching"] == []


def test_a_daily_rule_at_one_hour_is_still_taken(collector):
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    body = {"name": "nightly", "start": tomorrow.isoformat(), "duration": "2h",
            "rrule": "FREQ=DAILY;INTERVAL=2;BYHOUR=3;BYMINUTE=30",
            "hosts": ["no-such-host-*"]}
    status, answer = collector.call("POST", "/api/v1/maintenance", body, token="responder")
    assert status == 201, answer
    status, _ = collector.call("POST", f"/api/v1/maintenance/{answer['id']}/end",
                               {}, token="responder")
    assert status == 200
