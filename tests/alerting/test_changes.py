"""alerting/changes.py: the state machine table (who may make which move, for which type),
the risk score with its reasons, maintenance hours across a DST change, freezes, conflicts,
host globs, and the period incidents are attributed to a change."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerting.changes import (
    TRANSITIONS,
    Action,
    ChangeRefused,
    ChangeStatus,
    ChangeType,
    Freeze,
    MaintenanceHours,
    Outcome,
    Planned,
    RiskInputs,
    RiskLevel,
    UnknownHost,
    assess_risk,
    conflicts,
    decide,
    freezes_in,
    incident_window,
    resolve_hosts,
    review_due,
)
from alerting.ticket import Criticality

S, T = ChangeStatus, ChangeType
T0 = datetime(2026, 3, 28, 1, 0, tzinfo=UTC)


def _decide(change_type, status, action, *, role="change_manager", actor="bob",
            author="alice", **kw):
    return decide(change_type=change_type, status=status, action=action, role=role,
                  actor=actor, author=author, **kw)


# (type, status, action) -> the status reached, for every move the rules allow.
ALLOWED = [
    (T.STANDARD, S.DRAFT, Action.SUBMIT, S.APPROVED),      # pre-approved
    (T.NORMAL, S.DRAFT, Action.SUBMIT, S.SUBMITTED),
    (T.EMERGENCY, S.DRAFT, Action.SUBMIT, S.SUBMITTED),
    (T.NORMAL, S.SUBMITTED, Action.APPROVE, S.APPROVED),
    (T.EMERGENCY, S.SUBMITTED, Action.APPROVE, S.APPROVED),
    (T.NORMAL, S.SUBMITTED, Action.REJECT, S.REJECTED),
    (T.EMERGENCY, S.SUBMITTED, Action.REJECT, S.REJECTED),
    (T.EMERGENCY, S.SUBMITTED, Action.START, S.IN_PROGRESS),   # fast track
    (T.STANDARD, S.APPROVED, Action.START, S.IN_PROGRESS),
    (T.NORMAL, S.APPROVED, Action.START, S.IN_PROGRESS),
    (T.EMERGENCY, S.APPROVED, Action.START, S.IN_PROGRESS),
    (T.STANDARD, S.IN_PROGRESS, Action.COMPLETE, S.COMPLETED),
    (T.NORMAL, S.IN_PROGRESS, Action.COMPLETE, S.COMPLETED),
    (T.EMERGENCY, S.IN_PROGRESS, Action.COMPLETE, S.COMPLETED),
    (T.STANDARD, S.COMPLETED, Action.REVIEW, S.REVIEWED),
    (T.NORMAL, S.COMPLETED, Action.REVIEW, S.REVIEWED),
    (T.EMERGENCY, S.COMPLETED, Action.REVIEW, S.REVIEWED),
]


@pytest.mark.parametrize(("change_type", "status", "action", "target"), ALLOWED)
def test_allowed_moves(change_type, status, action, target):
    move = _decide(change_type, status, action, reason="r", outcome=Outcome.SUCCESSFUL)
    assert move.target is target


def test_every_other_move_is_refused_with_a_reason():
    allowed = {(t, s, a) for t, s, a, _ in ALLOWED}
    refused = [(t, s, a) for t in T for s in S for a in Action if (t, s, a) not in allowed]
    assert len(refused) == len(T) * len(S) * len(Action) - len(ALLOWED)
    for change_type, status, action in refused:
        with pytest.raises(ChangeRefused) as raised:
            _decide(change_type, status, action, reason="r", outcome=Outcome.SUCCESSFUL)
        assert not raised.value.forbidden, (change_type, status, action)
        assert str(raised.value), (change_type, status, action)


@pytest.mark.parametrize(("change_type", "status", "action", "reason"), [
    (T.NORMAL, S.APPROVED, Action.SUBMIT,
     "cannot submit a change that is approved; from approved it can: start"),
    (T.NORMAL, S.REJECTED, Action.START,
     "cannot start a change that is rejected; a rejected change moves no further"),
    (T.NORMAL, S.SUBMITTED, Action.START,
     "a normal change starts only once approved (it is submitted); only emergency changes "
     "may start before approval"),
    (T.STANDARD, S.SUBMITTED, Action.APPROVE,
     "a standard change is pre-approved: it was approved when it was submitted"),
    (T.EMERGENCY, S.REVIEWED, Action.REVIEW,
     "cannot review a change that is reviewed; a reviewed change moves no further"),
])
def test_refusal_reasons(change_type, status, action, reason):
    with pytest.raises(ChangeRefused, match=f"^{reason}$".replace("(", r"\(")
                       .replace(")", r"\)")):
        _decide(change_type, status, action)


@pytest.mark.parametrize("action", [Action.APPROVE, Action.REJECT, Action.REVIEW])
@pytest.mark.parametrize("role", ["responder", "viewer", "ingest", "agent"])
def test_decisions_need_a_change_manager_or_admin(action, role):
    status = S.COMPLETED if action is Action.REVIEW else S.SUBMITTED
    with pytest.raises(ChangeRefused, match=f"^role '{role}' may not {action.value} changes "
                                            r"\(roles that may: admin, change_manager\)$") \
            as raised:
        _decide(T.NORMAL, status, action, role=role, reason="r")
    assert raised.value.forbidden
    assert _decide(T.NORMAL, status, action, role="admin", reason="r").target


@pytest.mark.parametrize("action", [Action.APPROVE, Action.REJECT, Action.REVIEW])
def test_the_author_may_not_decide_their_own_change(action):
    status = S.COMPLETED if action is Action.REVIEW else S.SUBMITTED
    with pytest.raises(ChangeRefused, match=f"^alice is the change's author and may not "
                                            f"{action.value} it") as raised:
        _decide(T.EMERGENCY, status, action, actor="alice", author="alice", reason="r")
    assert raised.value.forbidden


@pytest.mark.parametrize("role", ["responder", "change_manager", "admin"])
def test_anyone_who_works_on_changes_may_submit_start_and_complete(role):
    assert _decide(T.NORMAL, S.DRAFT, Action.SUBMIT, role=role, actor="alice").target \
        is S.SUBMITTED
    assert _decide(T.NORMAL, S.APPROVED, Action.START, role=role, actor="alice").target \
        is S.IN_PROGRESS
    assert _decide(T.NORMAL, S.IN_PROGRESS, Action.COMPLETE, role=role, actor="alice",
                   outcome=Outcome.FAILED).target is S.COMPLETED


def test_reject_needs_a_reason_and_complete_an_outcome():
    with pytest.raises(ChangeRefused, match=r"^reject needs a reason$"):
        _decide(T.NORMAL, S.SUBMITTED, Action.REJECT)
    with pytest.raises(ChangeRefused, match=r"^complete needs an outcome: one of successful, "
                                            r"failed, rolled_back$"):
        _decide(T.NORMAL, S.IN_PROGRESS, Action.COMPLETE)


FREEZE = Freeze(datetime(2026, 12, 21, tzinfo=UTC), datetime(2027, 1, 4, tzinfo=UTC),
                "year-end closing")


def test_a_normal_change_in_a_freeze_is_approved_only_with_an_override():
    with pytest.raises(ChangeRefused, match=r"^the window is inside a change freeze "
                                            r"\(year-end closing, 2026-12-21 00:00 to "
                                            r"2027-01-04 00:00 UTC\): approve it with an "
                                            r"override reason") as raised:
        _decide(T.NORMAL, S.SUBMITTED, Action.APPROVE, freezes=(FREEZE,))
    assert not raised.value.forbidden
    assert _decide(T.NORMAL, S.SUBMITTED, Action.APPROVE, freezes=(FREEZE,),
                   freeze_override="tax law change").target is S.APPROVED
    # Emergency changes are what freezes make room for.
    assert _decide(T.EMERGENCY, S.SUBMITTED, Action.APPROVE, freezes=(FREEZE,)).target \
        is S.APPROVED


def test_only_completed_emergency_changes_are_due_for_review():
    due = {(t, s) for t in T for s in S if review_due(t, s)}
    assert due == {(T.EMERGENCY, S.COMPLETED)}


def test_the_table_names_every_target_once_per_state_and_action():
    for (status, action), rule in TRANSITIONS.items():
        assert rule.target is not status, (status, action)


# ---------------------------------------------------------------------------- risk score

def _risk(**kw) -> RiskInputs:
    base = dict(change_type=T.STANDARD, criticality=Criticality.LOW,
                criticality_source="default", systems=1)
    return RiskInputs(**{**base, **kw})


HOURS = MaintenanceHours(days=frozenset({5, 6}), start=time(2), end=time(6),
                         timezone=ZoneInfo("Europe/Amsterdam"))


@pytest.mark.parametrize(("inputs", "score", "level", "reasons"), [
    (_risk(), 0, RiskLevel.LOW,
     ["+0 most critical system: low (default)", "+0 1 system affected",
      "+0 0 incidents on these systems in the last 90 days", "+0 standard change"]),
    (_risk(criticality=Criticality.BUSINESS_CRITICAL, criticality_source="host glob pay-*"),
     3, RiskLevel.LOW, ["+3 most critical system: business-critical (host glob pay-*)"]),
    (_risk(systems=2), 1, RiskLevel.LOW, ["+1 2 systems affected"]),
    (_risk(systems=6), 2, RiskLevel.LOW, ["+2 6 systems affected"]),
    (_risk(systems=21), 3, RiskLevel.LOW, ["+3 21 systems affected"]),
    (_risk(past_end_of_support=("db-1", "db-2")), 2, RiskLevel.LOW,
     ["+2 past end of support: db-1, db-2"]),
    (_risk(incidents=1), 1, RiskLevel.LOW,
     ["+1 1 incident on these systems in the last 90 days"]),
    (_risk(incidents=4), 2, RiskLevel.LOW,
     ["+2 4 incidents on these systems in the last 90 days"]),
    (_risk(incidents=5), 3, RiskLevel.LOW,
     ["+3 5 incidents on these systems in the last 90 days"]),
    (_risk(change_type=T.NORMAL), 1, RiskLevel.LOW, ["+1 normal change"]),
    (_risk(change_type=T.EMERGENCY), 2, RiskLevel.LOW, ["+2 emergency change"]),
    (_risk(team="ops", hours=HOURS, in_hours=False), 1, RiskLevel.LOW,
     ["+1 window outside team ops's maintenance hours (sat, sun 02:00-06:00 "
      "Europe/Amsterdam)"]),
    (_risk(team="ops", hours=HOURS, in_hours=True), 0, RiskLevel.LOW, []),
    (_risk(freezes=(FREEZE,)), 2, RiskLevel.LOW,
     ["+2 window inside a change freeze (year-end closing, 2026-12-21 00:00 to 2027-01-04 "
      "00:00 UTC)"]),
    # Levels: 0-3 low, 4-6 medium, 7 and more high.
    (_risk(change_type=T.EMERGENCY, incidents=2), 4, RiskLevel.MEDIUM, []),
    (_risk(change_type=T.NORMAL, criticality=Criticality.HIGH, systems=6,
           past_end_of_support=("db-1",)), 7, RiskLevel.HIGH, []),
])
def test_risk_score_table(inputs, score, level, reasons):
    risk = assess_risk(inputs)
    assert (risk.score, risk.level) == (score, level)
    for reason in reasons:
        assert reason in risk.reasons
    assert risk.reasons[-1] == f"score {score}: {level.value}"
    # The points in the reasons add up to the score.
    assert sum(int(r.split()[0]) for r in risk.reasons[:-1]) == score


# ------------------------------------------------------------------------- the calendar

AMS = ZoneInfo("Europe/Amsterdam")


def _local(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


@pytest.mark.parametrize(("start", "end", "inside"), [
    (_local(2026, 3, 7, 2), _local(2026, 3, 7, 6), True),        # Saturday, whole occurrence
    (_local(2026, 3, 7, 1, 59), _local(2026, 3, 7, 3), False),   # starts before it opens
    (_local(2026, 3, 7, 5), _local(2026, 3, 7, 6, 1), False),    # ends after it closes
    (_local(2026, 3, 9, 2), _local(2026, 3, 9, 3), False),       # Monday
    # The night clocks go forward (Sunday 29 March 2026, 02:00 -> 03:00): the occurrence
    # runs 02:00-06:00 wall clock, three hours of real time, 00:00-04:00 UTC.
    (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 3, 29, 4, 0, tzinfo=UTC), True),
    (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 3, 29, 4, 1, tzinfo=UTC), False),
    # And back (Sunday 25 October 2026, 03:00 -> 02:00): five hours, 00:00-05:00 UTC.
    (datetime(2026, 10, 25, 0, 0, tzinfo=UTC), datetime(2026, 10, 25, 5, 0, tzinfo=UTC), True),
])
def test_maintenance_hours_on_the_wall_clock(start, end, inside):
    assert HOURS.covers(start, end) is inside


def test_maintenance_hours_past_midnight():
    night = MaintenanceHours(days=frozenset({4}), start=time(22), end=time(4), timezone=AMS)
    assert night.covers(_local(2026, 3, 6, 23), _local(2026, 3, 7, 3))    # Friday night
    assert not night.covers(_local(2026, 3, 7, 23), _local(2026, 3, 8, 1))  # Saturday night
    assert night.covers(_local(2026, 3, 7, 1), _local(2026, 3, 7, 2))    # Saturday early


def test_freezes_touching_a_window():
    assert freezes_in(FREEZE.start - timedelta(hours=1), FREEZE.start, [FREEZE]) == ()
    assert freezes_in(FREEZE.end, FREEZE.end + timedelta(hours=1), [FREEZE]) == ()
    assert freezes_in(FREEZE.end - timedelta(hours=1), FREEZE.end, [FREEZE]) == (FREEZE,)


def _planned(change_id, hosts, start_h, end_h, change_type=T.NORMAL) -> Planned:
    return Planned(id=change_id, change_type=change_type, hosts=frozenset(hosts),
                   start=T0 + timedelta(hours=start_h), end=T0 + timedelta(hours=end_h))


def test_conflicts_two_changes_on_one_host_in_overlapping_windows():
    mine = _planned(1, {"web-1", "web-2"}, 0, 2)
    others = [mine, _planned(2, {"web-2", "db-1"}, 1, 3), _planned(3, {"web-1"}, 2, 4),
              _planned(4, {"db-1"}, 0, 2)]
    found = conflicts(mine, others=others, freezes=())
    assert [(c.kind, c.data["change"], c.data["hosts"]) for c in found] == [
        ("host_overlap", 2, ["web-2"])]
    assert found[0].message == "change #2 touches web-2 in an overlapping window"


def test_conflicts_a_normal_change_in_a_freeze_but_not_an_emergency_one():
    start = (FREEZE.start - T0).total_seconds() / 3600
    normal = _planned(1, {"web-1"}, start, start + 2)
    emergency = _planned(2, {"web-1"}, start, start + 2, T.EMERGENCY)
    assert [c.kind for c in conflicts(normal, others=(), freezes=[FREEZE])] == ["freeze"]
    assert conflicts(emergency, others=(), freezes=[FREEZE]) == ()


def test_conflicts_nobody_on_call():
    gap = ("ops", "primary", T0, T0 + timedelta(hours=1))
    found = conflicts(_planned(1, {"web-1"}, 0, 2), others=(), freezes=(), gaps=[gap])
    assert [(c.kind, c.message) for c in found] == [
        ("nobody_on_call", "nobody is primary on call for team ops from 2026-03-28 01:00 to "
                           "2026-03-28 02:00 UTC")]


# ------------------------------------------------------------------------ hosts, incidents

KNOWN = ["web-1", "web-2", "db-1", "web-10"]


@pytest.mark.parametrize(("patterns", "hosts"), [
    (["web-1"], ("web-1",)),
    (["web-?"], ("web-1", "web-2")),
    (["web-*", "db-1"], ("db-1", "web-1", "web-10", "web-2")),
    (["web-[12]", "web-1"], ("web-1", "web-2")),
    ([], ()),
])
def test_hosts_from_names_and_globs(patterns, hosts):
    assert resolve_hosts(patterns, KNOWN) == hosts


@pytest.mark.parametrize(("patterns", "reason"), [
    (["web-3"], "'web-3' is not a known host"),
    (["Web-1"], "'Web-1' is not a known host"),
    (["mail-*"], "'mail-*' matches no known host"),
    (["web-1", "db-2"], "'db-2' is not a known host"),
])
def test_unknown_hosts_are_named(patterns, reason):
    with pytest.raises(UnknownHost) as raised:
        resolve_hosts(patterns, KNOWN)
    assert str(raised.value).startswith(f"{reason} ("), raised.value


def test_incident_window_uses_actual_times_when_known():
    after = timedelta(hours=24)
    planned = dict(planned_start=T0, planned_end=T0 + timedelta(hours=2))
    assert incident_window(**planned, actual_start=None, actual_end=None, after=after) == (
        T0, T0 + timedelta(hours=26))
    assert incident_window(**planned, actual_start=T0 + timedelta(hours=1),
                           actual_end=T0 + timedelta(hours=5), after=after) == (
        T0 + timedelta(hours=1), T0 + timedelta(hours=29))
