"""On-call schedules: parse errors name their key; rotations resolve in local wall-clock time."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from alerting.ical import ical_fold, shift_uid, to_ical
from alerting.schedule import Gap, Person, ScheduleError, Schedules, Shift
from alerting.schedule_file import load_schedules, parse_schedules
from regie.configfile import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "/etc/regie/oncall.yml"
AMS = ZoneInfo("Europe/Amsterdam")
DELETE = object()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ams(*args: int, fold: int = 0) -> datetime:
    """A wall-clock time in Amsterdam (fold=1: the second 02:xx on the fall-back night)."""
    return datetime(*args, tzinfo=AMS, fold=fold)


def layer(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"participants": ["alice", "bob", "carol"], "rotation": "daily",
                            "handoff": "09:00", "start": "2024-01-01"}
    spec.update(changes)
    return {k: v for k, v in spec.items() if v is not DELETE}


def team(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "ops", "timezone": "Europe/Amsterdam",
        "business_hours": {"days": "mon-fri", "start": "09:00", "end": "17:00"},
        "layers": {"primary": layer()},
    }
    spec.update(changes)
    return {k: v for k, v in spec.items() if v is not DELETE}


def schedules(*teams: dict[str, Any], **people: Any) -> Schedules:
    document: dict[str, Any] = {"teams": list(teams) or [team()]}
    if people:
        document["people"] = people
    return parse_schedules(document, SOURCE)


def on_call(s: Schedules, at: datetime, role: str = "primary") -> Shift:
    (shift,) = s.who(at, role, "ops")
    return shift


# --------------------------------------------------------------------------- rotations

DAILY = layer()
DAILY_0230 = layer(handoff="02:30", participants=["alice", "bob"], start="2024-03-01")
WEEKLY = layer(rotation="weekly", handoff_day="monday")
CUSTOM_12H = layer(rotation="custom", shift="12h", handoff=DELETE,
                   participants=["alice", "bob"], start="2024-03-30T08:00")


@pytest.mark.parametrize(
    ("spec", "at", "person", "start", "end"),
    [
        # daily, 09:00 local; 2024-01-01 is a Monday, alice goes first
        (DAILY, ams(2024, 1, 1, 9, 0), "alice", ams(2024, 1, 1, 9, 0), ams(2024, 1, 2, 9, 0)),
        (DAILY, ams(2024, 1, 2, 8, 59), "alice", ams(2024, 1, 1, 9, 0), ams(2024, 1, 2, 9, 0)),
        (DAILY, ams(2024, 1, 2, 9, 0), "bob", ams(2024, 1, 2, 9, 0), ams(2024, 1, 3, 9, 0)),
        (DAILY, ams(2024, 1, 4, 12, 0), "alice", ams(2024, 1, 4, 9, 0), ams(2024, 1, 5, 9, 0)),
        # spring-forward (Sun 31 March 2024): the hand-off stays at 09:00, the shift is 23 h
        (DAILY, ams(2024, 3, 31, 8, 30), "carol", ams(2024, 3, 30, 9, 0), ams(2024, 3, 31, 9, 0)),
        (DAILY, ams(2024, 3, 31, 9, 0), "alice", ams(2024, 3, 31, 9, 0), ams(2024, 4, 1, 9, 0)),
        # fall-back (Sun 27 October 2024): 25 h
        (DAILY, ams(2024, 10, 27, 8, 0), "carol", ams(2024, 10, 26, 9, 0),
         ams(2024, 10, 27, 9, 0)),
        (DAILY, ams(2024, 10, 27, 9, 0), "alice", ams(2024, 10, 27, 9, 0),
         ams(2024, 10, 28, 9, 0)),
        # daily at 02:30: on 31 March 02:30 does not exist; fold=0 reads it with the winter
        # offset, so that hand-off happens at 03:30 summer time (01:30Z)
        (DAILY_0230, utc(2024, 3, 31, 1, 0), "bob", utc(2024, 3, 30, 1, 30),
         utc(2024, 3, 31, 1, 30)),
        (DAILY_0230, utc(2024, 3, 31, 1, 30), "alice", utc(2024, 3, 31, 1, 30),
         ams(2024, 4, 1, 2, 30)),
        # on 27 October 02:30 happens twice; the hand-off is the first one (summer time, 00:30Z)
        (DAILY_0230, ams(2024, 10, 27, 2, 15, fold=0), "bob", ams(2024, 10, 26, 2, 30),
         utc(2024, 10, 27, 0, 30)),
        (DAILY_0230, ams(2024, 10, 27, 2, 45, fold=0), "alice", utc(2024, 10, 27, 0, 30),
         ams(2024, 10, 28, 2, 30)),
        # the second 02:15 (winter time) is after the hand-off though its wall time is earlier
        (DAILY_0230, ams(2024, 10, 27, 2, 15, fold=1), "alice", utc(2024, 10, 27, 0, 30),
         ams(2024, 10, 28, 2, 30)),
        # weekly, Monday 09:00
        (WEEKLY, ams(2024, 1, 7, 23, 0), "alice", ams(2024, 1, 1, 9, 0), ams(2024, 1, 8, 9, 0)),
        (WEEKLY, ams(2024, 1, 8, 9, 0), "bob", ams(2024, 1, 8, 9, 0), ams(2024, 1, 15, 9, 0)),
        (WEEKLY, ams(2024, 1, 22, 9, 0), "alice", ams(2024, 1, 22, 9, 0),
         ams(2024, 1, 29, 9, 0)),
        (WEEKLY, ams(2024, 3, 31, 12, 0), "alice", ams(2024, 3, 25, 9, 0), ams(2024, 4, 1, 9, 0)),
        (WEEKLY, ams(2024, 10, 27, 12, 0), "alice", ams(2024, 10, 21, 9, 0),
         ams(2024, 10, 28, 9, 0)),
        # a start that is not a hand-off: alice has a short first week, bob the first full one
        (layer(rotation="weekly", handoff_day="mon", start="2024-01-03"), ams(2024, 1, 5, 9, 0),
         "alice", ams(2024, 1, 3, 9, 0), ams(2024, 1, 8, 9, 0)),
        (layer(rotation="weekly", handoff_day="mon", start="2024-01-03"), ams(2024, 1, 8, 9, 0),
         "bob", ams(2024, 1, 8, 9, 0), ams(2024, 1, 15, 9, 0)),
        (layer(rotation="weekly", handoff="17:30", handoff_day="Friday"),
         ams(2024, 1, 5, 18, 0), "bob", ams(2024, 1, 5, 17, 30), ams(2024, 1, 12, 17, 30)),
        (layer(start="2024-01-01T12:00"), ams(2024, 1, 1, 12, 0), "alice",
         ams(2024, 1, 1, 12, 0), ams(2024, 1, 2, 9, 0)),
        # an offset wins over the zone; before the first hand-off is alice's short shift
        (layer(start="2024-01-01T06:00:00+00:00"), ams(2024, 1, 1, 8, 0), "alice",
         ams(2024, 1, 1, 7, 0), ams(2024, 1, 1, 9, 0)),
        (layer(start="2024-01-01T06:00:00+00:00"), ams(2024, 1, 1, 9, 0), "bob",
         ams(2024, 1, 1, 9, 0), ams(2024, 1, 2, 9, 0)),
        (layer(start=date(2024, 1, 1)), ams(2024, 1, 1, 9, 0), "alice", ams(2024, 1, 1, 9, 0),
         ams(2024, 1, 2, 9, 0)),
        (layer(start=datetime(2024, 1, 1, 9, 0)), ams(2024, 1, 1, 9, 0), "alice",
         ams(2024, 1, 1, 9, 0), ams(2024, 1, 2, 9, 0)),
        # custom 12 h counts elapsed time: 08:00/20:00 in winter are 09:00/21:00 in summer
        (CUSTOM_12H, ams(2024, 3, 30, 8, 0), "alice", ams(2024, 3, 30, 8, 0),
         ams(2024, 3, 30, 20, 0)),
        (CUSTOM_12H, ams(2024, 3, 31, 8, 30), "bob", ams(2024, 3, 30, 20, 0),
         ams(2024, 3, 31, 9, 0)),
        (CUSTOM_12H, ams(2024, 3, 31, 9, 0), "alice", ams(2024, 3, 31, 9, 0),
         ams(2024, 3, 31, 21, 0)),
        (CUSTOM_12H, ams(2024, 4, 10, 22, 0), "bob", ams(2024, 4, 10, 21, 0),
         ams(2024, 4, 11, 9, 0)),
        # custom 3d from a date: 00:00 local, then 72 h each (01:00 local in summer)
        (layer(rotation="custom", shift="3d", handoff=DELETE), ams(2024, 1, 4, 0, 0), "bob",
         ams(2024, 1, 4, 0, 0), ams(2024, 1, 7, 0, 0)),
        (layer(rotation="custom", shift="3d", handoff=DELETE, start="2024-03-29"),
         ams(2024, 4, 1, 12, 0), "bob", ams(2024, 4, 1, 1, 0), ams(2024, 4, 4, 1, 0)),
    ],
)
def test_rotation_resolves(spec, at, person, start, end):
    shift = on_call(schedules(team(layers={"primary": spec})), at)
    assert (shift.person, shift.start, shift.end, shift.reason) == (person, start, end, "rotation")
    assert shift.start.tzinfo is UTC and shift.end.tzinfo is UTC


@pytest.mark.parametrize(
    ("spec", "first", "hours"),
    [
        # shift lengths around the DST changes, hand-off by hand-off
        (DAILY, ams(2024, 3, 29, 9, 0), [24, 23, 24]),
        (DAILY, ams(2024, 10, 25, 9, 0), [24, 25, 24]),
        (DAILY_0230, ams(2024, 3, 29, 2, 30), [24, 24, 23, 24]),
        (DAILY_0230, ams(2024, 10, 25, 2, 30), [24, 24, 25, 24]),
        (WEEKLY, ams(2024, 3, 18, 9, 0), [168, 167, 168]),
        (WEEKLY, ams(2024, 10, 14, 9, 0), [168, 169, 168]),
        (CUSTOM_12H, ams(2024, 3, 30, 8, 0), [12, 12, 12, 12]),
    ],
)
def test_shift_lengths_across_dst(spec, first, hours):
    s = schedules(team(layers={"primary": spec}))
    got = s.shifts(first, first + timedelta(hours=sum(hours) - 1), "ops", "primary")
    assert got[0].start == first
    assert [(x.end - x.start) / timedelta(hours=1) for x in got] == hours
    assert all(a.end == b.start for a, b in itertools.pairwise(got))


def test_a_layer_with_until_ends_the_last_shift_there():
    s = schedules(team(layers={"primary": layer(until="2024-01-02T12:00")}))
    assert [(x.person, x.end) for x in s.shifts(ams(2024, 1, 1), ams(2024, 1, 4), "ops")] == [
        ("alice", ams(2024, 1, 2, 9, 0)), ("bob", ams(2024, 1, 2, 12, 0))]
    assert s.who(ams(2024, 1, 2, 12, 0), "primary") == ()


# --------------------------------------------------------------------------- overrides, swaps

def test_an_override_over_a_hand_off_cuts_both_shifts():
    s = schedules(team(overrides=[
        {"role": "primary", "person": "dave", "start": "2024-01-01T18:00",
         "end": "2024-01-02T12:00"}]))
    got = s.shifts(ams(2024, 1, 1, 10, 0), ams(2024, 1, 2, 18, 0))
    assert [(x.person, x.start, x.end, x.reason) for x in got] == [
        ("alice", ams(2024, 1, 1, 9, 0), ams(2024, 1, 1, 18, 0), "rotation"),
        ("dave", ams(2024, 1, 1, 18, 0), ams(2024, 1, 2, 12, 0), "override"),
        ("bob", ams(2024, 1, 2, 12, 0), ams(2024, 1, 3, 9, 0), "rotation"),
    ]
    assert on_call(s, ams(2024, 1, 2, 9, 0)).person == "dave"  # the hand-off moment itself
    assert on_call(s, ams(2024, 1, 2, 12, 0)).person == "bob"


@pytest.mark.parametrize(
    ("override", "at", "expected"),
    [
        # a date alone is 00:00 local; an end is exclusive
        ({"start": "2024-01-03", "end": "2024-01-04"}, ams(2024, 1, 3, 0, 0), "dave"),
        ({"start": "2024-01-03", "end": "2024-01-04"}, ams(2024, 1, 4, 0, 0), "carol"),
        ({"start": date(2024, 1, 3), "end": date(2024, 1, 4)}, ams(2024, 1, 3, 23, 59), "dave"),
        # an offset wins over the team's zone
        ({"start": "2024-01-03T08:00:00Z", "end": "2024-01-03T09:00:00Z"},
         ams(2024, 1, 3, 9, 30), "dave"),
        ({"start": datetime(2024, 1, 3, 8, tzinfo=UTC), "end": "2024-01-03T10:00"},
         ams(2024, 1, 3, 10, 0), "carol"),
        # an override inside one shift splits it; over the spring-forward night
        ({"start": "2024-03-31T01:00", "end": "2024-03-31T04:00"}, utc(2024, 3, 31, 1, 30),
         "dave"),
        ({"start": "2024-03-31T01:00", "end": "2024-03-31T04:00"}, ams(2024, 3, 31, 4, 0),
         "carol"),
    ],
)
def test_override_ranges(override, at, expected):
    s = schedules(team(overrides=[{"role": "primary", "person": "dave", **override}]))
    assert on_call(s, at).person == expected


def test_an_override_needs_no_layer_and_reports_its_own_bounds():
    s = schedules(team(overrides=[{"role": "escalation_manager", "person": "erin",
                                   "start": "2024-01-01", "end": "2024-01-08"}]))
    assert s.who(ams(2024, 1, 5), "escalation_manager") == (
        Shift("ops", "escalation_manager", "erin", ams(2024, 1, 1), ams(2024, 1, 8), "override"),)
    assert s.who(ams(2024, 1, 8), "escalation_manager") == ()


WEEKLY_ABC = layer(rotation="weekly", handoff_day="monday")


@pytest.mark.parametrize(
    ("swap", "weeks"),
    [
        # weeks from 1 January: alice, bob, carol, alice
        ({"a": "alice", "b": "carol", "start": "2024-01-01", "end": "2024-01-16"},
         [("carol", "swap"), ("bob", "rotation"), ("alice", "swap"), ("alice", "rotation")]),
        # only shifts that start in the range are swapped, whole
        ({"a": "bob", "b": "carol", "start": "2024-01-10", "end": "2024-01-16"},
         [("alice", "rotation"), ("bob", "rotation"), ("bob", "swap"), ("alice", "rotation")]),
        ({"a": "alice", "b": "bob", "start": "2024-01-01T09:00", "end": "2024-01-01T09:01"},
         [("bob", "swap"), ("bob", "rotation"), ("carol", "rotation"), ("alice", "rotation")]),
        ({"a": "alice", "b": "bob", "start": "2024-01-01T09:01", "end": "2024-01-08"},
         [("alice", "rotation"), ("bob", "rotation"), ("carol", "rotation"),
          ("alice", "rotation")]),
    ],
)
def test_swaps_trade_whole_shifts(swap, weeks):
    s = schedules(team(layers={"primary": WEEKLY_ABC}, swaps=[{"role": "primary", **swap}]))
    got = s.shifts(ams(2024, 1, 1, 9, 0), ams(2024, 1, 29, 9, 0), "ops", "primary")
    assert [(x.person, x.reason) for x in got] == weeks
    assert [x.start for x in got] == [ams(2024, 1, d, 9, 0) for d in (1, 8, 15, 22)]


def test_an_override_wins_over_a_swap():
    s = schedules(team(
        layers={"primary": WEEKLY_ABC},
        swaps=[{"role": "primary", "a": "alice", "b": "bob", "start": "2024-01-01",
                "end": "2024-01-02"}],
        overrides=[{"role": "primary", "person": "dave", "start": "2024-01-03",
                    "end": "2024-01-04"}]))
    assert [(x.person, x.reason) for x in s.shifts(ams(2024, 1, 2), ams(2024, 1, 5))] == [
        ("bob", "swap"), ("dave", "override"), ("bob", "swap")]


# --------------------------------------------------------------------------- gaps

RANGE = (ams(2024, 1, 1), ams(2024, 3, 1))


@pytest.mark.parametrize(
    ("teams", "gaps"),
    [
        ([team()], [Gap("ops", "primary", ams(2024, 1, 1), ams(2024, 1, 1, 9, 0))]),
        ([team(layers={"primary": layer(start="2023-12-01")})], []),
        # no primary layer: the whole range; a missing secondary is no gap
        ([team(layers={"secondary": layer(start="2023-12-01")})],
         [Gap("ops", "primary", *RANGE)]),
        ([team(layers={})], [Gap("ops", "primary", *RANGE)]),
        ([team(layers=DELETE)], [Gap("ops", "primary", *RANGE)]),
        # a layer starting later; an existing secondary layer must be covered too
        ([team(layers={"primary": layer(start="2024-02-01"),
                       "secondary": layer(start="2024-02-05T10:00")})],
         [Gap("ops", "primary", ams(2024, 1, 1), ams(2024, 2, 1, 9, 0)),
          Gap("ops", "secondary", ams(2024, 1, 1), ams(2024, 2, 5, 10, 0))]),
        # an override fills part of the gap, then all of it
        ([team(layers={"primary": layer(start="2024-02-01")},
               overrides=[{"role": "primary", "person": "dave", "start": "2024-01-10",
                           "end": "2024-01-20"}])],
         [Gap("ops", "primary", ams(2024, 1, 1), ams(2024, 1, 10)),
          Gap("ops", "primary", ams(2024, 1, 20), ams(2024, 2, 1, 9, 0))]),
        ([team(layers={}, overrides=[
            {"role": "primary", "person": "dave", "start": "2023-12-01", "end": "2024-02-01"},
            {"role": "primary", "person": "erin", "start": "2024-02-01", "end": "2024-04-01"}])],
         []),
        # until: nobody afterwards
        ([team(layers={"primary": layer(start="2023-01-01", until="2024-02-01")})],
         [Gap("ops", "primary", ams(2024, 2, 1, 9, 0), RANGE[1])]),
        # several teams: by start time, then file order
        ([team(name="db", layers={"primary": layer(start="2024-01-15")}), team(layers={})],
         [Gap("db", "primary", ams(2024, 1, 1), ams(2024, 1, 15, 9, 0)),
          Gap("ops", "primary", *RANGE)]),
    ],
)
def test_gaps(teams, gaps):
    assert schedules(*teams).gaps(*RANGE) == tuple(gaps)


# --------------------------------------------------------------------------- business hours

@pytest.mark.parametrize(
    ("hours", "at", "expected"),
    [
        ({}, ams(2024, 3, 25, 9, 0), True),          # Monday, start inclusive
        ({}, ams(2024, 3, 25, 8, 59), False),
        ({}, ams(2024, 3, 25, 16, 59), True),
        ({}, ams(2024, 3, 25, 17, 0), False),         # end exclusive
        ({}, ams(2024, 3, 29, 12, 0), True),          # Friday
        ({}, ams(2024, 3, 30, 12, 0), False),         # Saturday
        ({}, ams(2024, 3, 31, 12, 0), False),         # Sunday
        # the same UTC time is 08:30 before spring-forward and 09:30 after it
        ({}, utc(2024, 3, 25, 7, 30), False),
        ({}, utc(2024, 4, 1, 7, 30), True),
        ({}, utc(2024, 10, 21, 6, 30), False),        # 08:30 summer time
        ({}, utc(2024, 10, 28, 8, 30), True),         # 09:30 winter time
        ({}, datetime(2024, 3, 25, 12, 0, tzinfo=ZoneInfo("America/New_York")), False),
        ({"end": "24:00"}, ams(2024, 3, 25, 23, 59), True),
        ({"days": ["sat", "sun"]}, ams(2024, 3, 30, 12, 0), True),
        ({"days": "fri-mon"}, ams(2024, 3, 31, 12, 0), True),
        ({"days": "fri-mon"}, ams(2024, 3, 26, 12, 0), False),
        ({"days": "mon,wed"}, ams(2024, 3, 27, 12, 0), True),
        ({"days": []}, ams(2024, 3, 25, 12, 0), False),
    ],
)
def test_business_hours(hours, at, expected):
    spec = {"days": "mon-fri", "start": "09:00", "end": "17:00", **hours}
    assert schedules(team(business_hours=spec)).team("ops").in_business_hours(at) is expected


# --------------------------------------------------------------------------- the API

def test_times_must_be_timezone_aware():
    s = schedules()
    naive = datetime(2024, 1, 1, 12, 0)
    for call in (lambda: s.who(naive, "primary"), lambda: s.shifts(naive, naive),
                 lambda: s.gaps(naive, naive), lambda: s.team("ops").in_business_hours(naive),
                 lambda: to_ical((), naive)):
        with pytest.raises(ValueError, match="timezone-aware"):
            call()
    with pytest.raises(ValueError, match="must be after start"):
        s.shifts(utc(2024, 1, 2), utc(2024, 1, 1))


def test_unknown_roles_and_teams():
    s = schedules(team(name="ops"), team(name="db"))
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        s.who(utc(2024, 2, 1), "boss")
    with pytest.raises(ScheduleError) as info:
        s.who(utc(2024, 2, 1), "primary", team="opps")
    assert str(info.value) == f"{SOURCE}: teams: no team named 'opps' (did you mean 'ops'?)"
    with pytest.raises(ScheduleError, match=r"no team named 'web' \(teams: ops, db\)"):
        s.team("web")


def test_who_without_a_team_gives_one_shift_per_team_that_has_the_role():
    s = schedules(team(name="ops", layers={"primary": layer(), "secondary": layer()}),
                  team(name="db", layers={"primary": layer(participants=["dave"])}),
                  team(name="web", layers={"primary": layer(start="2030-01-01")}))
    at = ams(2024, 1, 1, 12, 0)
    assert [(x.team, x.person) for x in s.who(at, "primary")] == [("ops", "alice"),
                                                                  ("db", "dave")]
    assert [(x.team, x.role) for x in s.who(at, "secondary")] == [("ops", "secondary")]
    assert s.who(at, "escalation_manager") == ()


def test_shifts_filters_and_orders():
    s = schedules(team(name="ops", layers={"primary": layer(), "secondary": layer(
                       participants=["erin"], handoff="08:00")}),
                  team(name="db", layers={"primary": layer(participants=["dave"])}))
    got = s.shifts(ams(2024, 1, 2, 10, 0), ams(2024, 1, 3, 10, 0))
    assert [(x.team, x.role, x.person, x.start) for x in got] == [
        ("ops", "secondary", "erin", ams(2024, 1, 2, 8, 0)),
        ("ops", "primary", "bob", ams(2024, 1, 2, 9, 0)),
        ("db", "primary", "dave", ams(2024, 1, 2, 9, 0)),
        ("ops", "secondary", "erin", ams(2024, 1, 3, 8, 0)),
        ("ops", "primary", "carol", ams(2024, 1, 3, 9, 0)),
        ("db", "primary", "dave", ams(2024, 1, 3, 9, 0)),
    ]
    assert {x.team for x in s.shifts(*RANGE, team="db")} == {"db"}
    assert {x.role for x in s.shifts(*RANGE, role="secondary")} == {"secondary"}


def test_the_model_is_frozen_and_slotted():
    s = schedules()
    shift = on_call(s, ams(2024, 1, 2))
    for value in (s, s.teams[0], shift, s.people["alice"], Gap("ops", "primary", *RANGE)):
        assert not hasattr(value, "__dict__")
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, dataclasses.fields(value)[0].name, "x")
    with pytest.raises(TypeError):
        s.teams[0].layers["secondary"] = s.teams[0].layers["primary"]  # type: ignore[index]
    assert issubclass(ScheduleError, ConfigError)


def test_people_holds_every_name_with_its_contact():
    plain = schedules(team(overrides=[{"role": "primary", "person": "dave",
                                       "start": "2024-01-01", "end": "2024-01-02"}]))
    assert dict(plain.people) == {n: Person(n) for n in ("alice", "bob", "carol", "dave")}
    listed = schedules(alice={"email": "a@example.org", "slack": "@alice"}, bob=None,
                       carol={"phone": "+31 6 1"})
    assert listed.people["alice"] == Person("alice", email="a@example.org", slack="@alice")
    assert listed.people["bob"] == Person("bob")


# --------------------------------------------------------------------------- parse errors

def valid() -> dict[str, Any]:
    return {
        "people": {n: {"email": f"{n}@example.org"} for n in ("alice", "bob", "carol", "dave")},
        "teams": [team(
            layers={"primary": layer(), "secondary": layer(rotation="weekly",
                                                           handoff_day="monday")},
            overrides=[{"role": "primary", "person": "dave", "start": "2024-01-03",
                        "end": "2024-01-04"}],
            swaps=[{"role": "primary", "a": "alice", "b": "bob", "start": "2024-02-01",
                    "end": "2024-02-08"}],
        )],
    }


def changed(path: str, value: Any) -> dict[str, Any]:
    """valid() with the value at a dotted path ('teams.0.name') replaced, appended or DELETEd."""
    document = copy.deepcopy(valid())
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target: Any = document
    for part in parents:
        target = target[part]
    if value is DELETE:
        del target[last]
    elif isinstance(target, list) and last == len(target):
        target.append(value)
    else:
        target[last] = value
    return document


OVERRIDE = {"role": "primary", "person": "dave", "start": "2024-01-03T12:00",
            "end": "2024-01-05"}
SWAP = {"role": "primary", "a": "bob", "b": "carol", "start": "2024-02-07", "end": "2024-02-09"}
T0 = "teams[0]"
PRIMARY = f"{T0}.layers.primary"


def test_the_valid_document_parses():
    assert parse_schedules(valid(), SOURCE).team("ops").layers["secondary"].handoff_day == 0


@pytest.mark.parametrize(
    ("document", "key", "reason"),
    [
        (None, "-", "is empty; expected a 'teams:' list"),
        ([], "-", "must be a mapping with a 'teams' list, not a list"),
        ({"team": []}, "team", "unknown key (did you mean 'teams'?)"),
        ({}, "teams", "is required"),
        ({"teams": []}, "teams", "must list at least one team"),
        ({"teams": {"ops": {}}}, "teams", "must be a list of teams, not a mapping"),
        ({"teams": ["ops"]}, T0, "must be a mapping with name, timezone"),
        (changed("teams.0.name", DELETE), f"{T0}.name", "is required"),
        (changed("teams.0.name", "ops team"), f"{T0}.name", "is not a team name"),
        (changed("teams.0.name", 7), f"{T0}.name", "must be a string (quote it), not an integer"),
        (changed("teams.0.colour", "red"), f"{T0}.colour", "unknown key (known: name,"),
        (changed("teams.0.layer", {}), f"{T0}.layer", "unknown key (did you mean 'layers'?)"),
        (changed("teams", [team(), team()]), "teams[1].name",
         "duplicate team name 'ops' (also teams[0])"),
        (changed("teams.0.timezone", "Europe/Amsterdm"), f"{T0}.timezone",
         "unknown IANA time zone 'Europe/Amsterdm'"),
        (changed("teams.0.timezone", "../../etc/passwd"), f"{T0}.timezone",
         "unknown IANA time zone"),
        (changed("teams.0.timezone", 1), f"{T0}.timezone", "must be an IANA time zone"),
        (changed("teams.0.business_hours", DELETE), f"{T0}.business_hours", "is required"),
        (changed("teams.0.business_hours", "mon-fri 9-5"), f"{T0}.business_hours",
         "must be a mapping with days, start and end, not a string"),
        (changed("teams.0.business_hours.days", DELETE), f"{T0}.business_hours.days",
         "is required"),
        (changed("teams.0.business_hours.days", "mon-fry"), f"{T0}.business_hours.days",
         "expected day names or ranges such as 'mon-fri', got 'mon-fry'"),
        (changed("teams.0.business_hours.days", ["mon", 2]), f"{T0}.business_hours.days[1]",
         "must be a day name"),
        (changed("teams.0.business_hours.days", 5), f"{T0}.business_hours.days",
         "must be day names or ranges"),
        (changed("teams.0.business_hours.start", "9am"), f"{T0}.business_hours.start",
         "expected HH:MM, got '9am'"),
        (changed("teams.0.business_hours.end", 1020), f"{T0}.business_hours.end",
         "expected HH:MM, got the number 1020 (quote it: '17:00')"),
        (changed("teams.0.business_hours.end", "08:00"), f"{T0}.business_hours.end",
         "must be after start (09:00); use '24:00' for midnight"),
        (changed("teams.0.business_hours.start", "24:00"), f"{T0}.business_hours.start",
         "expected HH:MM, got '24:00'"),
        (changed("teams.0.business_hours.hours", 8), f"{T0}.business_hours.hours",
         "unknown key"),
        (changed("teams.0.layers", ["primary"]), f"{T0}.layers",
         "must be a mapping of role: layer"),
        (changed("teams.0.layers.primry", layer()), f"{T0}.layers.primry",
         "unknown key (did you mean 'primary'?)"),
        (changed("teams.0.layers.primary", "alice"), PRIMARY,
         "must be a mapping with participants, rotation and start"),
        (changed("teams.0.layers.primary.handoff", "25:00"), f"{PRIMARY}.handoff",
         "expected HH:MM, got '25:00'"),
        (changed("teams.0.layers.primary.handoff", "09:60"), f"{PRIMARY}.handoff",
         "expected HH:MM, got '09:60'"),
        (changed("teams.0.layers.primary.handoff", DELETE), f"{PRIMARY}.handoff", "is required"),
        (changed("teams.0.layers.primary.rotation", "monthly"), f"{PRIMARY}.rotation",
         "must be one of daily, weekly, custom, not 'monthly'"),
        (changed("teams.0.layers.primary.rotation", ["daily"]), f"{PRIMARY}.rotation",
         "must be one of daily, weekly, custom"),
        (changed("teams.0.layers.primary.rotation", DELETE), f"{PRIMARY}.rotation",
         "is required"),
        (changed("teams.0.layers.primary.rotaton", "daily"), f"{PRIMARY}.rotaton",
         "unknown key (did you mean 'rotation'?)"),
        (changed("teams.0.layers.primary.handoff_day", "monday"), f"{PRIMARY}.handoff_day",
         "only for rotation: weekly"),
        (changed("teams.0.layers.primary.shift", "12h"), f"{PRIMARY}.shift",
         "only for rotation: custom"),
        (changed("teams.0.layers.secondary.handoff_day", DELETE),
         f"{T0}.layers.secondary.handoff_day", "is required"),
        (changed("teams.0.layers.secondary.handoff_day", "funday"),
         f"{T0}.layers.secondary.handoff_day", "must be a day of the week"),
        (changed("teams.0.layers.secondary", layer(rotation="custom", shift="12h")),
         f"{T0}.layers.secondary.handoff", "only for rotation: daily or weekly"),
        (changed("teams.0.layers.secondary", layer(rotation="custom", handoff=DELETE)),
         f"{T0}.layers.secondary.shift", "is required"),
        (changed("teams.0.layers.secondary", layer(rotation="custom", handoff=DELETE,
                                                   shift="12 hours")),
         f"{T0}.layers.secondary.shift", "'12 hours' is not a duration"),
        (changed("teams.0.layers.secondary", layer(rotation="custom", handoff=DELETE,
                                                   shift="30m")),
         f"{T0}.layers.secondary.shift", "must be at least 1h, not '30m'"),
        (changed("teams.0.layers.secondary", layer(rotation="custom", handoff=DELETE,
                                                   shift=12)),
         f"{T0}.layers.secondary.shift", "must be a duration such as '12h' or '3d', not an"),
        (changed("teams.0.layers.primary.participants", []), f"{PRIMARY}.participants",
         "must name at least one person"),
        (changed("teams.0.layers.primary.participants", "alice"), f"{PRIMARY}.participants",
         "must be a list of names, not a string"),
        (changed("teams.0.layers.primary.participants", ["alice", ""]),
         f"{PRIMARY}.participants[1]", "must not be empty"),
        (changed("teams.0.layers.primary.participants", ["alice", None]),
         f"{PRIMARY}.participants[1]", "must be a string, not nothing"),
        (changed("teams.0.layers.primary.participants", ["alice", "zoe"]),
         f"{PRIMARY}.participants[1]", "'zoe' is not listed under 'people'"),
        (changed("teams.0.layers.primary.participants", ["alice", "carl"]),
         f"{PRIMARY}.participants[1]", "(did you mean 'carol'?)"),
        (changed("teams.0.layers.primary.participants", ["alice\nbob"]),
         f"{PRIMARY}.participants[0]", "must not contain control characters"),
        (changed("teams.0.layers.primary.start", DELETE), f"{PRIMARY}.start", "is required"),
        (changed("teams.0.layers.primary.start", "next monday"), f"{PRIMARY}.start",
         "expected a date (2024-01-01) or a date and time (2024-01-01T09:00, local unless it "
         "has an offset), got 'next monday'"),
        (changed("teams.0.layers.primary.start", "2024-02-30"), f"{PRIMARY}.start",
         "expected a date"),
        (changed("teams.0.layers.primary.start", 20240101), f"{PRIMARY}.start",
         "expected a date or a date and time, not an integer"),
        (changed("teams.0.layers.primary.until", "2023-12-31"), f"{PRIMARY}.until",
         "must be after start"),
        (changed("teams.0.overrides", {"role": "primary"}), f"{T0}.overrides",
         "must be a list, not a mapping"),
        (changed("teams.0.overrides.0.role", "boss"), f"{T0}.overrides[0].role",
         "must be one of primary, secondary, escalation_manager, not 'boss'"),
        (changed("teams.0.overrides.0.person", DELETE), f"{T0}.overrides[0].person",
         "is required"),
        (changed("teams.0.overrides.0.person", "zoe"), f"{T0}.overrides[0].person",
         "'zoe' is not listed under 'people'"),
        (changed("teams.0.overrides.0.who", "dave"), f"{T0}.overrides[0].who", "unknown key"),
        (changed("teams.0.overrides.0.end", "2024-01-03"), f"{T0}.overrides[0].end",
         "must be after start"),
        (changed("teams.0.overrides.0.start", "tomorrow"), f"{T0}.overrides[0].start",
         "expected a date"),
        (changed("teams.0.overrides.1", OVERRIDE), f"{T0}.overrides[1]",
         "overlaps overrides[0] for role primary"),
        (changed("teams.0.swaps.0.role", "escalation_manager"), f"{T0}.swaps[0].role",
         "team 'ops' has no escalation_manager layer to swap shifts in"),
        (changed("teams.0.swaps.0.b", "alice"), f"{T0}.swaps[0].b", "must differ from a"),
        (changed("teams.0.swaps.0.b", "dave"), f"{T0}.swaps[0].b",
         "'dave' is not a participant of layers.primary"),
        (changed("teams.0.swaps.0.start", "2024-02-09"), f"{T0}.swaps[0].end",
         "must be after start"),
        (changed("teams.0.swaps.1", SWAP), f"{T0}.swaps[1]", "overlaps swaps[0] for role primary"),
        (changed("teams.0.swaps", "alice<->bob"), f"{T0}.swaps", "must be a list"),
        (changed("people", ["alice"]), "people", "must be a mapping of name: {email"),
        (changed("people.alice.pager", "x"), "people.alice.pager",
         "unknown key (known: email, phone, slack)"),
        (changed("people.alice.phone", 31612345678), "people.alice.phone",
         "must be a string (quote it), not an integer"),
        (changed("people.alice", "alice@example.org"), "people.alice", "must be a mapping"),
    ],
)
def test_each_problem_is_one_error_naming_its_key(document, key, reason):
    with pytest.raises(ScheduleError) as info:
        parse_schedules(document, SOURCE)
    assert (info.value.source, info.value.key) == (SOURCE, key)
    assert reason in info.value.reason
    # A problem with the whole file names no key (no stray "-:").
    where = SOURCE if key == "-" else f"{SOURCE}: {key}"
    assert str(info.value) == f"{where}: {info.value.reason}"


def test_the_error_reads_as_one_line():
    with pytest.raises(ScheduleError) as info:
        parse_schedules(changed("teams.0.layers.primary.handoff", "25:00"), SOURCE)
    assert str(info.value) == (
        f"{SOURCE}: teams[0].layers.primary.handoff: expected HH:MM, got '25:00'")


def test_swaps_of_different_people_may_overlap():
    other = {"role": "primary", "a": "carol", "b": "alice", "start": "2024-03-01",
             "end": "2024-03-08"}
    document = changed("teams.0.swaps.1", {**other, "a": "carol", "b": "alice"})
    assert len(parse_schedules(document, SOURCE).teams[0].swaps) == 2
    document = changed("teams.0.swaps.1", {**SWAP, "a": "carol", "b": "bob",
                                           "start": "2024-02-01"})
    with pytest.raises(ScheduleError, match="overlaps swaps"):
        parse_schedules(document, SOURCE)


# --------------------------------------------------------------------------- files

def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "oncall.yml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


YAML = """\
teams:
  - name: ops
    timezone: Europe/Amsterdam
    business_hours: {days: mon-fri, start: 09:00, end: 17:00}
    layers:
      primary: {participants: [alice], rotation: daily, handoff: 12:30, start: 2024-01-01}
"""


def test_load_reads_unquoted_times_as_times(tmp_path):
    s = load_schedules(write(tmp_path, YAML))
    ops = s.team("ops")
    assert (ops.business_hours.end.hour, ops.layers["primary"].handoff.minute) == (17, 30)
    assert s.source == str(tmp_path / "oncall.yml")
    assert on_call(s, ams(2024, 1, 2, 12, 30)).start == ams(2024, 1, 2, 12, 30)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (YAML + "teams: []\n", "invalid YAML at line 7, column 1: key 'teams' given twice "
                               "(first on line 1)"),
        ("teams: [\n", "invalid YAML at line 2"),
        (b"teams: \xff\n", "not UTF-8 text"),
        ("", "is empty"),
        (YAML.replace("12:30", "25:30"), "expected HH:MM, got '25:30'"),
    ],
)
def test_load_errors_name_the_file(tmp_path, text, reason):
    with pytest.raises(ScheduleError) as info:
        load_schedules(write(tmp_path, text))
    assert info.value.source == str(tmp_path / "oncall.yml")
    assert reason in info.value.reason


def test_a_missing_file_is_a_schedule_error(tmp_path):
    with pytest.raises(ScheduleError, match="cannot read: No such file"):
        load_schedules(tmp_path / "nope.yml")


def test_the_example_file_loads_without_gaps():
    s = load_schedules(ROOT / "deploy" / "oncall.example.yml")
    assert [t.name for t in s.teams] == ["ops", "db"]
    assert s.gaps(utc(2024, 1, 2), utc(2026, 1, 1)) == ()
    assert s.people["grace"].phone == "+1 212 555 0107"


def test_the_yaml_in_the_docs_parses(tmp_path):
    text = (ROOT / "docs" / "oncall.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    assert blocks
    for block in blocks:
        if block.startswith("policies:"):   # the Escalation section's policy example
            import yaml

            from alerting.escalation_policy import parse_policies

            parse_policies(yaml.safe_load(block), source="docs/oncall.md")
            continue
        load_schedules(write(tmp_path, block))


# --------------------------------------------------------------------------- iCalendar

def unfold(text: str) -> list[str]:
    """Content lines of an RFC 5545 text: CRLF ends, continuation lines start with a space."""
    assert text.endswith("\r\n")
    lines: list[str] = []
    for line in text[:-2].split("\r\n"):
        assert "\n" not in line and "\r" not in line
        assert len(line.encode()) <= 75, line
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] in "nN" else m[1], value)


def events(text: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for line in unfold(text):
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            found.append({})
        elif found and line != "END:VEVENT" and "END" not in found[-1]:
            found[-1][name] = value
        if line == "END:VEVENT":
            found[-1]["END"] = ""
    return found


NOW = utc(2024, 1, 1, 12, 0, 5)


def test_ical_round_trips_every_shift():
    s = schedules(team(overrides=[{"role": "primary", "person": "dave",
                                   "start": "2024-01-01T18:00", "end": "2024-01-02T12:00"}]))
    shifts = s.shifts(ams(2024, 1, 1, 10, 0), ams(2024, 1, 2, 18, 0))
    text = to_ical(shifts, NOW)
    lines = unfold(text)
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"]
    assert lines[-1] == "END:VCALENDAR"
    assert any(line.startswith("PRODID:") for line in lines)
    got = events(text)
    assert [(e["DTSTART"], e["DTEND"], unescape(e["SUMMARY"])) for e in got] == [
        ("20240101T080000Z", "20240101T170000Z", "primary on-call: alice (ops)"),
        ("20240101T170000Z", "20240102T110000Z", "primary on-call: dave (ops)"),
        ("20240102T110000Z", "20240103T080000Z", "primary on-call: bob (ops)"),
    ]
    assert {e["DTSTAMP"] for e in got} == {"20240101T120005Z"}
    assert [e["UID"] for e in got] == [shift_uid(x) for x in shifts]
    assert len({e["UID"] for e in got}) == 3
    assert "reason: override" in unescape(got[1]["DESCRIPTION"])


def test_ical_uids_are_stable_across_exports():
    s = schedules()
    first = events(to_ical(s.shifts(ams(2024, 1, 1), ams(2024, 1, 5)), NOW))
    again = events(to_ical(s.shifts(ams(2024, 1, 3), ams(2024, 1, 8)), NOW + timedelta(days=2)))
    uids = {e["DTSTART"]: e["UID"] for e in first}
    assert all(uids[e["DTSTART"]] == e["UID"] for e in again if e["DTSTART"] in uids)
    # the shifts of 2, 3 and 4 January are in both exports (whole shifts overlapping a range)
    assert len([e for e in again if e["DTSTART"] in uids]) == 3


@pytest.mark.parametrize(
    "person",
    ["O'Brien, Jr; \\ops\\", "line one\nline two", "Zoë Ångström-Łukasiewicz " * 6, "x" * 200,
     "日本語の名前" * 20],
)
def test_ical_escapes_and_folds(person):
    shift = Shift("ops", "primary", person, utc(2024, 1, 1, 8), utc(2024, 1, 2, 8), "override")
    (event,) = events(to_ical([shift], NOW))
    assert unescape(event["SUMMARY"]) == f"primary on-call: {person} (ops)"
    assert f"person: {person}\n" in unescape(event["DESCRIPTION"])
    assert not re.search(r"(?<!\\)[,;]", event["SUMMARY"])  # every , and ; escaped


def test_ical_fold_never_splits_a_character():
    line = "SUMMARY:" + "é" * 100
    folded = ical_fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert parts[0].encode() == line.encode()[:74]  # 75 would cut 'é' in half
    assert "".join([parts[0], *(p[1:] for p in parts[1:])]) == line
    assert ical_fold("A" * 75) == "A" * 75


def test_an_empty_calendar_is_valid():
    assert to_ical((), NOW) == ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                                "PRODID:-//Regie//On-call schedules//EN\r\n"
                                "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n")
