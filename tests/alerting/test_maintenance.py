"""Maintenance windows (alerting/maintenance.py): occurrences on the wall clock of the window's
time zone across DST changes, scope matching as Alertmanager's silences match, and refusals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from alerting.maintenance import (
    Scope,
    Window,
    WindowError,
    covering,
    glob_regex,
    parse_scope,
    parse_window,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def sunday_night(**kwargs) -> Window:
    values = dict(key="1", name="Sunday patching", start="2026-03-01T02:00", end="2026-03-01T04:00",
                  duration=None, timezone="Europe/Amsterdam", rrule_text="FREQ=WEEKLY;BYDAY=SU",
                  hosts=["web*"], services=[], matchers=[], now=NOW)
    values.update(kwargs)
    return parse_window(**values)


# Every Sunday 02:00-04:00 Europe/Amsterdam. Clocks go forward on the last Sunday of March
# (02:00 CET -> 03:00 CEST) and back on the last Sunday of October (03:00 CEST -> 02:00 CET).
@pytest.mark.parametrize(("day", "start", "end"), [
    (datetime(2026, 3, 22), _utc(2026, 3, 22, 1), _utc(2026, 3, 22, 3)),   # CET: UTC+1
    (datetime(2026, 3, 29), _utc(2026, 3, 29, 1), _utc(2026, 3, 29, 2)),   # the jump: 1 hour
    (datetime(2026, 4, 5), _utc(2026, 4, 5, 0), _utc(2026, 4, 5, 2)),      # CEST: UTC+2
    (datetime(2026, 10, 18), _utc(2026, 10, 18, 0), _utc(2026, 10, 18, 2)),
    (datetime(2026, 10, 25), _utc(2026, 10, 25, 0), _utc(2026, 10, 25, 3)),  # back: 3 hours
    (datetime(2026, 11, 1), _utc(2026, 11, 1, 1), _utc(2026, 11, 1, 3)),
])
def test_recurring_window_follows_the_wall_clock_across_dst(day, start, end) -> None:
    window = sunday_night()
    day_utc = day.replace(tzinfo=UTC)
    found = window.occurrences(day_utc - timedelta(hours=3), day_utc + timedelta(days=1))
    assert [(o.start, o.end) for o in found] == [(start, end)]
    assert window.occurrence_at(start).start == start
    assert window.occurrence_at(end - timedelta(seconds=1)).end == end
    assert window.occurrence_at(end) is None
    assert window.occurrence_at(start - timedelta(seconds=1)) is None


def test_one_off_window_and_ending_it_by_hand() -> None:
    window = parse_window(key="2", name="disk swap", start="2026-03-02T10:00:00+01:00",
                          end=None, duration="90m", timezone=None, rrule_text=None,
                          hosts=["db1"], services=[], matchers=[], now=NOW)
    assert window.starts_at == _utc(2026, 3, 2, 9)
    assert window.occurrence_at(_utc(2026, 3, 2, 10, 29)).end == _utc(2026, 3, 2, 10, 30)
    assert window.occurrence_at(_utc(2026, 3, 2, 10, 30)) is None
    from dataclasses import replace
    ended = replace(window, ended_at=_utc(2026, 3, 2, 9, 30))
    assert ended.occurrence_at(_utc(2026, 3, 2, 9, 29)).end == _utc(2026, 3, 2, 9, 30)
    assert ended.occurrence_at(_utc(2026, 3, 2, 9, 31)) is None


@pytest.mark.parametrize(("scope", "host", "service", "labels", "covered"), [
    (Scope(hosts=("web*",)), "web1", None, {}, True),
    (Scope(hosts=("web*",)), "db1", None, {}, False),
    (Scope(hosts=("web*",)), None, None, {}, False),
    (Scope(hosts=("web[12]", "db1")), "web2", None, {}, True),
    (Scope(hosts=("web[12]",)), "web3", None, {}, False),
    (Scope(services=("nginx",)), "web1", "nginx", {}, True),
    (Scope(services=("nginx",)), "web1", "mysql", {}, False),
    (Scope(hosts=("web1",), services=("nginx",)), "web1", "mysql", {}, False),
    (parse_scope([], [], ['alertname=~"Disk.*"']), "x", None, {"alertname": "DiskFull"}, True),
    (parse_scope([], [], ['alertname=~"Disk"']), "x", None, {"alertname": "DiskFull"}, False),
    (parse_scope([], [], ['env!="prod"']), "x", None, {"env": "prod"}, False),
    (parse_scope([], [], ['env!="prod"']), "x", None, {}, True),
    (parse_scope([], [], ['team="db"', 'env!~"prod|dr"']), "x", None,
     {"team": "db", "env": "test"}, True),
])
def test_scope(scope, host, service, labels, covered) -> None:
    assert scope.covers(host, service, labels) is covered


@pytest.mark.parametrize(("glob", "names", "others"), [
    ("web*", ["web", "web1", "web-a.example.org"], ["aweb1", "db"]),
    ("web?.example.org", ["web1.example.org"], ["web12.example.org", "web1xexample.org"]),
    ("db[0-2]", ["db0", "db2"], ["db3", "db"]),
    ("db[!0]", ["db1"], ["db0"]),
    ("a+b(c)", ["a+b(c)"], ["aab(c)"]),
])
def test_glob_regex_matches_as_fnmatch(glob, names, others) -> None:
    pattern = glob_regex(glob)
    for name in names:
        assert re.fullmatch(pattern, name), (glob, pattern, name)
    for name in others:
        assert not re.fullmatch(pattern, name), (glob, pattern, name)


def test_covering_picks_the_occurrence_ending_last() -> None:
    short = parse_window(key="a", name="a", start="2026-03-02T10:00Z", end="2026-03-02T11:00Z",
                         duration=None, timezone=None, rrule_text=None, hosts=["web*"],
                         services=[], matchers=[], now=NOW)
    long = parse_window(key="b", name="b", start="2026-03-02T10:30Z", end="2026-03-02T13:00Z",
                        duration=None, timezone=None, rrule_text=None, hosts=["web1"],
                        services=[], matchers=[], now=NOW)
    spans = [*short.occurrences(NOW, NOW + timedelta(days=2)),
             *long.occurrences(NOW, NOW + timedelta(days=2))]
    assert covering(spans, "web1", None, {}, _utc(2026, 3, 2, 10, 45)).window.key == "b"
    assert covering(spans, "web2", None, {}, _utc(2026, 3, 2, 10, 45)).window.key == "a"
    assert covering(spans, "web1", None, {}, _utc(2026, 3, 2, 9, 59)) is None


@pytest.mark.parametrize("start", ["2026-02-28T23:30", "2027-06-01T02:00", "2099-01-04T02:00",
                                   "9998-12-31T20:00"])
def test_a_one_off_window_not_yet_ended_is_taken_however_far_ahead(start) -> None:
    """Only a window that has ended is refused as in the past; one starting more than a year
    ahead was refused as 'in the past' too (its next occurrence was searched within a year)."""
    window = sunday_night(rrule_text=None, start=start, end=None, duration="1h", timezone=None)
    assert window.starts_at == datetime.fromisoformat(start).replace(tzinfo=UTC)


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
    ({"end": "2026-03-01T01:00"}, "end", "must be after the start"),
    ({"end": "2026-03-01T02:00"}, "end", "must be after the start"),
    ({"rrule_text": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "rrule", "never occurs"),
    ({"rrule_text": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"}, "rrule", "never occurs"),
    ({"rrule_text": "FREQ=WEEKLY;COUNT=0"}, "rrule", ""),
    ({"rrule_text": "FREQ=WEEKLY;UNTIL=20260101T000000Z"}, "rrule", ""),
    ({"rrule_text": "FREQ=MINUTELY"}, "rrule", "FREQ must be one of"),
    ({"rrule_text": "FREQ=DAILY;BYSETPOS=2"}, "rrule", "BYSETPOS is taken with"),
    ({"rrule_text": "FREQ=MONTHLY;BYSETPOS=40;BYDAY=MO"}, "rrule", "never occurs"),
    ({"rrule_text": "every sunday"}, "rrule", "FREQ must be one of"),
    ({"rrule_text": "FREQ=WEEKLY;BYDAY=XX"}, "rrule", "not an RFC 5545"),
    ({"rrule_text": "DTSTART:20260101T000000\nRRULE:FREQ=DAILY"}, "rrule", "one recurrence"),
    ({"matchers": ['alertname~"x"']}, "matchers[0]", "not a matcher"),
    ({"matchers": ['alertname=~"("']}, "matchers[0]", "regular expression"),
    ({"hosts": [], "matchers": []}, "hosts", "at least one"),
    ({"hosts": [""]}, "hosts", "non-empty"),
    ({"name": " "}, "name", "non-empty"),
    ({"start": "tomorrow"}, "start", "ISO 8601"),
    ({"end": None, "duration": "2 hours"}, "duration", "not a duration"),
    ({"end": None, "duration": "40d"}, "duration", "at most 31 days"),
    ({"rrule_text": None, "start": "2026-02-01T02:00", "end": "2026-02-01T04:00"}, "end",
     "in the past"),
])
def test_bad_windows_are_refused_naming_the_field(changes, field, reason) -> None:
    with pytest.raises(WindowError) as refused:
        sunday_night(**changes)
    assert refused.value.field == field
    assert reason in refused.value.reason


def test_scope_as_alertmanager_matchers() -> None:
    scope = parse_scope(["web*", "db1.example.org"], ["nginx"], ['env="prod"'])
    assert [str(m) for m in scope.as_matchers()] == [
        'host=~"web.*|db1\\\\.example\\\\.org"', 'service=~"nginx"', 'env="prod"']
