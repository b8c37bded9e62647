"""Escalation policies and `decide`: pure tables, no clock, no database, no network.

The end-to-end path (store, sweep, webhook deliveries) is tests/collector/test_escalation.py;
here every input, `now` included, is written down in the row that uses it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerting.escalation import (
    STEP_ACTIONS,
    Decision,
    EscalationState,
    NoticeKind,
    State,
    TicketFacts,
    decide,
)
from alerting.escalation_policy import (
    ROLES,
    Correlation,
    Policies,
    Policy,
    Routing,
    Step,
    parse_policies,
)
from alerting.ticket import Priority, Status
from regie.configfile import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS_FILE = ROOT / "collector" / "data" / "default_escalation.yml"
SOURCE = "/etc/regie/escalation.yml"

# A Wednesday morning, inside anyone's business hours.
T0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
# The same Wednesday at 03:00 and the 09:00 that ends the night.
NIGHT = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
MORNING = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

MIN = 60.0
HOUR = 3600.0
DAY = 86400.0


def load_defaults() -> Policies:
    document = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return parse_policies(document, source=str(DEFAULTS_FILE))


DEFAULTS = load_defaults()
P1 = DEFAULTS.for_priority(Priority.P1)
P2 = DEFAULTS.for_priority(Priority.P2)
P3 = DEFAULTS.for_priority(Priority.P3)
P4 = DEFAULTS.for_priority(Priority.P4)


# -- the defaults -------------------------------------------------------------------------


def role(after: float, target: str, reason: str = "") -> Step:
    return Step(after=after, action="notify_role", target=target, reason=reason)


@pytest.mark.parametrize(("priority", "expected"), [
    (Priority.P1, Policy(
        priority=Priority.P1,
        steps=(role(0, "primary"), role(5 * MIN, "secondary"),
               role(15 * MIN, "escalation_manager")),
        multi_system="escalation_manager", ack_expires=HOUR)),
    (Priority.P2, Policy(
        priority=Priority.P2,
        steps=(role(0, "primary"), role(15 * MIN, "secondary")),
        multi_system="escalation_manager")),
    (Priority.P3, Policy(
        priority=Priority.P3,
        steps=(role(0, "primary"),
               role(4 * HOUR, "secondary", "acknowledgement SLA (4h) breached")),
        business_hours_only=True)),
    (Priority.P4, Policy(
        priority=Priority.P4,
        steps=(role(0, "primary"),
               role(DAY, "secondary", "acknowledgement SLA (1d) breached")),
        business_hours_only=True)),
], ids=["P1", "P2", "P3", "P4"])
def test_default_policies_say_what_the_docstring_says(priority: Priority,
                                                      expected: Policy) -> None:
    assert DEFAULTS.for_priority(priority) == expected


def test_default_file_has_every_priority_correlation_and_no_routing() -> None:
    assert set(DEFAULTS.by_priority) == set(Priority)
    assert DEFAULTS.correlation == Correlation(window=15 * MIN, threshold=2)
    assert DEFAULTS.routing == Routing()
    assert DEFAULTS.source == str(DEFAULTS_FILE)


def test_default_file_is_valid_against_configured_channel_names() -> None:
    # The defaults name no channel, so they load whatever channels are configured.
    document = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))
    assert parse_policies(document, source="x", channels=[]).by_priority == \
        DEFAULTS.by_priority


# -- decide -------------------------------------------------------------------------------


ON_CALL: Mapping[str, tuple[str, ...]] = {
    "primary": ("alice",), "secondary": ("bob",), "escalation_manager": ("carol",)}


def on_call(table: Mapping[str, Sequence[str]] = ON_CALL) -> Callable[..., Sequence[str]]:
    def who(role: str, team: str | None, at: datetime) -> Sequence[str]:
        return tuple(table.get(role, ()))

    return who


WHO = on_call()


def open_hours(team: str | None, at: datetime) -> tuple[bool, datetime | None]:
    return True, None


def office_from(start: datetime) -> Callable[..., tuple[bool, datetime | None]]:
    """Business hours that begin at `start` (and have not ended by the test's `now`)."""

    def hours(team: str | None, at: datetime) -> tuple[bool, datetime | None]:
        return (True, None) if at >= start else (False, start)

    return hours


def st(next_step: int = 0, state: State = State.RUNNING, epoch: datetime = T0,
       notified: tuple[tuple[str | None, tuple[str, ...]], ...] = (),
       multi_system_at: datetime | None = None) -> EscalationState:
    return EscalationState(next_step=next_step, state=state, epoch=epoch, notified=notified,
                           multi_system_at=multi_system_at)


def ticket(status: Status = Status.OPEN, priority: Priority = Priority.P1, *,
           team: str | None = "ops", acknowledged_at: datetime | None = None,
           systems_affected: int = 1) -> TicketFacts:
    return TicketFacts(status=status, priority=priority, team=team,
                       acknowledged_at=acknowledged_at, systems_affected=systems_affected)


ALICE = ("alice", ())
BOB = ("bob", ())
CAROL = ("carol", ())

PERSON_AND_ROOM = Policy(priority=Priority.P2, channels=("hook",), steps=(
    Step(after=0, action="notify_person", target="dave", channels=("sms",)),
    Step(after=10 * MIN, action="notify_channel", target="", channels=("room",)),
))
UNKNOWN_ACTION = Policy.from_snapshot({
    "priority": "P2",
    "steps": [{"after": 0, "action": "page_the_robot", "target": "primary"},
              {"after": 0, "action": "notify_role", "target": "primary"},
              {"after": 300, "action": "notify_role", "target": "secondary"}],
})


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    policy: Policy
    state: EscalationState
    ticket: TicketFacts
    now: datetime
    notices: tuple[tuple[NoticeKind, str | None, str | None], ...]
    due_at: datetime | None
    expect_state: EscalationState
    audits: tuple[tuple[str, str], ...] = ()    # (kind, text the message contains)
    reopen: bool = False
    who: Callable[..., Sequence[str]] = WHO
    hours: Callable[..., tuple[bool, datetime | None]] = open_hours


T = NoticeKind
CASES = [
    Case("first step at once", P1, st(), ticket(), T0,
         notices=((T.TRIGGER, "alice", "primary"),),
         due_at=T0 + timedelta(minutes=5),
         expect_state=st(next_step=1, notified=(ALICE,)),
         audits=(("escalated", "step 1 (primary): notified alice via no channel: "
                               "first notification"),)),
    Case("next step not yet due", P1, st(1, notified=(ALICE,)), ticket(),
         T0 + timedelta(minutes=4, seconds=59),
         notices=(), due_at=T0 + timedelta(minutes=5),
         expect_state=st(1, notified=(ALICE,))),
    Case("second step exactly when due", P1, st(1, notified=(ALICE,)), ticket(),
         T0 + timedelta(minutes=5),
         notices=((T.ESCALATE, "bob", "secondary"),), due_at=T0 + timedelta(minutes=15),
         expect_state=st(2, notified=(ALICE, BOB)),
         audits=(("escalated", "not acknowledged after 5m"),)),
    Case("long outage: every overdue step at once, in order", P1, st(), ticket(),
         T0 + timedelta(hours=2),
         notices=((T.TRIGGER, "alice", "primary"), (T.ESCALATE, "bob", "secondary"),
                  (T.ESCALATE, "carol", "escalation_manager")),
         due_at=None, expect_state=st(3, notified=(ALICE, BOB, CAROL)),
         audits=(("escalated", "step 1"), ("escalated", "step 2"), ("escalated", "step 3"))),
    Case("every step done: nothing more", P1, st(3, notified=(ALICE, BOB, CAROL)), ticket(),
         T0 + timedelta(hours=3), notices=(), due_at=None,
         expect_state=st(3, notified=(ALICE, BOB, CAROL))),
    Case("acknowledged, no expiry: paused until the ticket changes", P2,
         st(1, notified=(ALICE,)),
         ticket(Status.ACKNOWLEDGED, Priority.P2, acknowledged_at=T0 + timedelta(minutes=1)),
         T0 + timedelta(minutes=2), notices=(), due_at=None,
         expect_state=st(1, State.ACKNOWLEDGED, notified=(ALICE,)),
         audits=(("escalation_paused", "escalation stopped: acknowledged"),)),
    Case("acknowledged, no expiry, second look: no second audit", P2,
         st(1, State.ACKNOWLEDGED, notified=(ALICE,)),
         ticket(Status.ACKNOWLEDGED, Priority.P2, acknowledged_at=T0 + timedelta(minutes=1)),
         T0 + timedelta(hours=5), notices=(), due_at=None,
         expect_state=st(1, State.ACKNOWLEDGED, notified=(ALICE,))),
    Case("acknowledged, expiry ahead: due when it expires", P1, st(1, notified=(ALICE,)),
         ticket(Status.ACKNOWLEDGED, acknowledged_at=T0 + timedelta(minutes=1)),
         T0 + timedelta(minutes=30), notices=(),
         due_at=T0 + timedelta(hours=1, minutes=1),
         expect_state=st(1, State.ACKNOWLEDGED, notified=(ALICE,)),
         audits=(("escalation_paused", "expires after 1h"),)),
    Case("acknowledged, expiry ahead, second look: no second audit", P1,
         st(1, State.ACKNOWLEDGED, notified=(ALICE,)),
         ticket(Status.ACKNOWLEDGED, acknowledged_at=T0 + timedelta(minutes=1)),
         T0 + timedelta(minutes=59), notices=(),
         due_at=T0 + timedelta(hours=1, minutes=1),
         expect_state=st(1, State.ACKNOWLEDGED, notified=(ALICE,))),
    Case("acknowledgement expired: reopen, page again from step 1", P1,
         st(2, State.ACKNOWLEDGED, notified=(ALICE, BOB)),
         ticket(Status.ACKNOWLEDGED, acknowledged_at=T0 + timedelta(minutes=6)),
         T0 + timedelta(hours=1, minutes=6),
         notices=((T.REACKNOWLEDGE, "alice", "primary"),),
         due_at=T0 + timedelta(hours=1, minutes=11),
         expect_state=st(1, epoch=T0 + timedelta(hours=1, minutes=6),
                         notified=(ALICE, BOB)),
         audits=(("acknowledgement_expired", "expired after 1h"), ("escalated", "step 1")),
         reopen=True),
    Case("acknowledgement long expired: every step re-pages", P1,
         st(3, State.ACKNOWLEDGED, notified=(ALICE, BOB, CAROL)),
         ticket(Status.ACKNOWLEDGED, acknowledged_at=T0),
         T0 + timedelta(hours=1, minutes=20),
         notices=((T.REACKNOWLEDGE, "alice", "primary"),),
         due_at=T0 + timedelta(hours=1, minutes=25),
         expect_state=st(1, epoch=T0 + timedelta(hours=1, minutes=20),
                         notified=(ALICE, BOB, CAROL)),
         audits=(("acknowledgement_expired", ""), ("escalated", "")),
         reopen=True),
    Case("resolved: a resolve notice to everyone notified", P1,
         st(2, notified=(ALICE, BOB, (None, ("room",)))), ticket(Status.RESOLVED),
         T0 + timedelta(minutes=7),
         notices=((T.RESOLVE, "alice", None), (T.RESOLVE, "bob", None),
                  (T.RESOLVE, None, None)),
         due_at=None, expect_state=st(2, State.DONE, notified=(ALICE, BOB, (None, ("room",)))),
         audits=(("escalation_ended", "ticket resolved; resolve notice to alice, bob, "
                                      "the channel"),)),
    Case("closed while acknowledged", P1, st(1, State.ACKNOWLEDGED, notified=(ALICE,)),
         ticket(Status.CLOSED, acknowledged_at=T0), T0 + timedelta(minutes=7),
         notices=((T.RESOLVE, "alice", None),), due_at=None,
         expect_state=st(1, State.DONE, notified=(ALICE,)),
         audits=(("escalation_ended", "ticket closed"),)),
    Case("resolved before anyone was told", P1, st(), ticket(Status.RESOLVED), T0,
         notices=(), due_at=None, expect_state=st(state=State.DONE),
         audits=(("escalation_ended", "ticket resolved"),)),
    Case("done, looked at again: nothing", P1, st(2, State.DONE, notified=(ALICE, BOB)),
         ticket(Status.CLOSED), T0 + timedelta(days=1), notices=(), due_at=None,
         expect_state=st(2, State.DONE, notified=(ALICE, BOB))),
    Case("nobody on call as secondary: audit, and the step still advances", P1,
         st(1, notified=(ALICE,)), ticket(), T0 + timedelta(minutes=5),
         notices=(), due_at=T0 + timedelta(minutes=15),
         expect_state=st(2, notified=(ALICE,)),
         audits=(("escalation_failed", "nobody is on call as secondary for team ops"),),
         who=on_call({"primary": ("alice",), "escalation_manager": ("carol",)})),
    Case("nobody on call, no team routed", P1, st(), ticket(team=None), T0,
         notices=(), due_at=T0 + timedelta(minutes=5), expect_state=st(1),
         audits=(("escalation_failed", "step 1 (primary): nobody is on call as primary"),),
         who=on_call({})),
    Case("business hours only, at night: held until they begin", P3, st(epoch=NIGHT),
         ticket(priority=Priority.P3), NIGHT + timedelta(seconds=1),
         notices=(), due_at=MORNING, expect_state=st(epoch=NIGHT),
         audits=(("escalation_held",
                  f"step 1 held until business hours ({MORNING.isoformat()})"),),
         hours=office_from(MORNING)),
    Case("held first step in business hours: the SLA counts from the first notice", P3,
         st(epoch=NIGHT), ticket(priority=Priority.P3), MORNING,
         notices=((T.TRIGGER, "alice", "primary"),),
         due_at=MORNING + timedelta(hours=4),
         expect_state=st(1, epoch=MORNING, notified=(ALICE,)),
         audits=(("escalated", "step 1"),), hours=office_from(MORNING)),
    Case("held P4 first step: the 1d SLA counts from the first notice", P4,
         st(epoch=NIGHT - timedelta(days=2)), ticket(priority=Priority.P4), MORNING,
         notices=((T.TRIGGER, "alice", "primary"),),
         due_at=MORNING + timedelta(days=1),
         expect_state=st(1, epoch=MORNING, notified=(ALICE,)),
         audits=(("escalated", "step 1"),), hours=office_from(MORNING)),
    Case("SLA breached in business hours: the secondary", P3,
         st(1, epoch=MORNING, notified=(ALICE,)), ticket(priority=Priority.P3),
         MORNING + timedelta(hours=4),
         notices=((T.ESCALATE, "bob", "secondary"),), due_at=None,
         expect_state=st(2, epoch=MORNING, notified=(ALICE, BOB)),
         audits=(("escalated", "acknowledgement SLA (4h) breached"),)),
    Case("SLA breached after hours: held, no notice", P3,
         st(1, epoch=MORNING, notified=(ALICE,)), ticket(priority=Priority.P3),
         MORNING + timedelta(hours=10),
         notices=(), due_at=MORNING + timedelta(days=1),
         expect_state=st(1, epoch=MORNING, notified=(ALICE,)),
         audits=(("escalation_held", "step 2 held until business hours"),),
         hours=office_from(MORNING + timedelta(days=1))),
    Case("impact on several systems: the escalation manager at once", P1, st(),
         ticket(systems_affected=3), T0,
         notices=((T.MULTI_SYSTEM, "carol", "escalation_manager"),
                  (T.TRIGGER, "alice", "primary")),
         due_at=T0 + timedelta(minutes=5),
         expect_state=st(1, notified=(CAROL, ALICE), multi_system_at=T0),
         audits=(("escalated", "impact spans 3 systems: escalation_manager decides: "
                               "notified carol"),
                 ("escalated", "step 1"))),
    Case("impact on several systems, later: no second multi-system notice", P1,
         st(1, notified=(CAROL, ALICE), multi_system_at=T0), ticket(systems_affected=4),
         T0 + timedelta(minutes=1), notices=(), due_at=T0 + timedelta(minutes=5),
         expect_state=st(1, notified=(CAROL, ALICE), multi_system_at=T0)),
    Case("correlated after the first page (P2)", P2, st(1, notified=(ALICE,)),
         ticket(priority=Priority.P2, systems_affected=2), T0 + timedelta(minutes=3),
         notices=((T.MULTI_SYSTEM, "carol", "escalation_manager"),),
         due_at=T0 + timedelta(minutes=15),
         expect_state=st(1, notified=(ALICE, CAROL),
                         multi_system_at=T0 + timedelta(minutes=3)),
         audits=(("escalated", "impact spans 2 systems"),)),
    Case("one system: no multi-system notice", P1, st(), ticket(systems_affected=1), T0,
         notices=((T.TRIGGER, "alice", "primary"),), due_at=T0 + timedelta(minutes=5),
         expect_state=st(1, notified=(ALICE,)), audits=(("escalated", "step 1"),)),
    Case("several systems, policy without multi_system role", P3, st(),
         ticket(priority=Priority.P3, systems_affected=5), T0,
         notices=((T.TRIGGER, "alice", "primary"),), due_at=T0 + timedelta(hours=4),
         expect_state=st(1, notified=(ALICE,)), audits=(("escalated", "step 1"),)),
    Case("multi-system with no escalation manager: audited, not retried", P1, st(),
         ticket(systems_affected=2), T0,
         notices=((T.TRIGGER, "alice", "primary"),), due_at=T0 + timedelta(minutes=5),
         expect_state=st(1, notified=(ALICE,), multi_system_at=T0),
         audits=(("escalation_failed", "nobody is on call as escalation_manager"),
                 ("escalated", "step 1")),
         who=on_call({"primary": ("alice",), "secondary": ("bob",)})),
    Case("notify_person: that person, the step's channels", PERSON_AND_ROOM, st(),
         ticket(priority=Priority.P2), T0,
         notices=((T.TRIGGER, "dave", None),), due_at=T0 + timedelta(minutes=10),
         expect_state=st(1, notified=(("dave", ("sms",)),)),
         audits=(("escalated", "step 1 (dave): notified dave via sms"),)),
    Case("notify_channel: the channel alone", PERSON_AND_ROOM,
         st(1, notified=(("dave", ("sms",)),)), ticket(priority=Priority.P2),
         T0 + timedelta(minutes=10),
         notices=((T.ESCALATE, None, None),), due_at=None,
         expect_state=st(2, notified=(("dave", ("sms",)), (None, ("room",)))),
         audits=(("escalated", "step 2 (channel): notified the channel via room"),)),
    Case("unknown action in a snapshot: audited, the rest go on", UNKNOWN_ACTION, st(),
         ticket(priority=Priority.P2), T0,
         notices=((T.ESCALATE, "alice", "primary"),), due_at=T0 + timedelta(minutes=5),
         expect_state=st(2, notified=(ALICE,)),
         audits=(("escalation_failed", "step 1: unknown action 'page_the_robot'"),
                 ("escalated", "step 2 (primary)"))),
    Case("reopened after an acknowledgement: carries on where it stopped", P2,
         st(1, State.ACKNOWLEDGED, notified=(ALICE,)), ticket(priority=Priority.P2),
         T0 + timedelta(minutes=20),
         notices=((T.ESCALATE, "bob", "secondary"),), due_at=None,
         expect_state=st(2, notified=(ALICE, BOB)),
         audits=(("escalated", "step 2"),)),
]


def summary(decision: Decision) -> tuple[tuple[NoticeKind, str | None, str | None], ...]:
    return tuple((n.kind, n.recipient, n.role) for n in decision.notices)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_decide(case: Case) -> None:
    decision = decide(case.policy, case.state, case.ticket, case.now, who=case.who,
                      hours=case.hours)
    assert summary(decision) == case.notices
    assert decision.due_at == case.due_at
    assert decision.state == case.expect_state
    assert decision.reopen is case.reopen
    assert [a.kind for a in decision.audits] == [kind for kind, _ in case.audits]
    for audit, (_, text) in zip(decision.audits, case.audits, strict=True):
        assert text in audit.message


def test_decide_is_repeatable_from_its_own_state() -> None:
    """Feeding each decision's state back in, minute by minute, pages each role once."""
    state = st()
    told = []
    for minute in range(0, 31):
        decision = decide(P1, state, ticket(), T0 + timedelta(minutes=minute),
                          who=on_call(), hours=open_hours)
        told += summary(decision)
        state = decision.state
    assert told == [(T.TRIGGER, "alice", "primary"), (T.ESCALATE, "bob", "secondary"),
                    (T.ESCALATE, "carol", "escalation_manager")]


def test_acknowledged_audit_carries_the_expiry() -> None:
    decision = decide(P1, st(1), ticket(Status.ACKNOWLEDGED, acknowledged_at=T0), T0,
                      who=on_call(), hours=open_hours)
    (audit,) = decision.audits
    assert audit.data == {"expires_at": (T0 + timedelta(hours=1)).isoformat()}


def test_acknowledged_without_a_time_counts_from_now() -> None:
    decision = decide(P1, st(1), ticket(Status.ACKNOWLEDGED, acknowledged_at=None),
                      T0 + timedelta(minutes=2), who=on_call(), hours=open_hours)
    assert decision.due_at == T0 + timedelta(hours=1, minutes=2)


@pytest.mark.parametrize(("policy", "state", "now", "channels"), [
    # A step's own channels win over the policy's.
    (PERSON_AND_ROOM, st(), T0, (("sms",),)),
    (PERSON_AND_ROOM, st(1), T0 + timedelta(minutes=10), (("room",),)),
    # Neither: empty, meaning every configured channel.
    (P1, st(), T0, ((),)),
    # The policy's channels when the step names none.
    (dataclasses.replace(P1, channels=("hook", "mail")), st(), T0, (("hook", "mail"),)),
    (dataclasses.replace(P1, channels=("hook",)), st(), T0 + timedelta(minutes=5),
     (("hook",), ("hook",))),
])
def test_notice_channels(policy: Policy, state: EscalationState, now: datetime,
                         channels: tuple[tuple[str, ...], ...]) -> None:
    decision = decide(policy, state, ticket(), now, who=on_call(), hours=open_hours)
    assert tuple(n.channels for n in decision.notices) == channels


def test_resolve_goes_to_the_channels_each_was_notified_on() -> None:
    state = st(2, notified=(("alice", ("hook",)), ("bob", ("mail",)), (None, ("room",))))
    decision = decide(P1, state, ticket(Status.RESOLVED), T0, who=on_call(),
                      hours=open_hours)
    assert [(n.recipient, n.channels, n.step) for n in decision.notices] == [
        ("alice", ("hook",), None), ("bob", ("mail",), None), (None, ("room",), None)]


def test_notice_step_numbers_and_reasons() -> None:
    anytime = dataclasses.replace(P3, business_hours_only=False)
    decision = decide(anytime, st(epoch=MORNING), ticket(priority=Priority.P3),
                      MORNING + timedelta(hours=5), who=on_call(), hours=open_hours)
    assert [(n.step, n.reason) for n in decision.notices] == [
        (1, "first notification"), (2, "acknowledgement SLA (4h) breached")]


def test_late_first_step_in_business_hours_keeps_the_opening_as_epoch() -> None:
    # Opened 10:00 on a Wednesday, inside business hours; first looked at 5 h later, still
    # inside. Nothing was held for business hours, so times count from the opening (module
    # docstring) and both overdue steps fire together, as they do for P1/P2.
    decision = decide(P3, st(epoch=T0), ticket(priority=Priority.P3),
                      T0 + timedelta(hours=5), who=on_call(), hours=open_hours)
    assert summary(decision) == ((T.TRIGGER, "alice", "primary"),
                                 (T.ESCALATE, "bob", "secondary"))
    assert decision.state.epoch == T0


def test_several_people_on_call_are_each_notified() -> None:
    decision = decide(P1, st(), ticket(), T0, who=on_call({"primary": ("alice", "dave")}),
                      hours=open_hours)
    assert summary(decision) == ((T.TRIGGER, "alice", "primary"),
                                 (T.TRIGGER, "dave", "primary"))
    assert decision.state.notified == (ALICE, ("dave", ()))
    (audit,) = decision.audits
    assert audit.data["recipients"] == ["alice", "dave"]


def test_who_is_asked_for_the_ticket_team_at_now() -> None:
    asked = []

    def who(role: str, team: str | None, at: datetime) -> Sequence[str]:
        asked.append((role, team, at))
        return ("x",)

    decide(P1, st(), ticket(team="db", systems_affected=2), T0 + timedelta(minutes=6),
           who=who, hours=open_hours)
    now = T0 + timedelta(minutes=6)
    assert asked == [("escalation_manager", "db", now), ("primary", "db", now),
                     ("secondary", "db", now)]


@pytest.mark.parametrize("status", list(Status))
def test_naive_now_is_refused(status: Status) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(P1, st(), ticket(status), datetime(2026, 12, 2, 10, 0), who=on_call(),
               hours=open_hours)


def test_step_actions_table_holds_what_the_parser_produces() -> None:
    assert set(STEP_ACTIONS) == {"notify_role", "notify_person", "notify_channel"}


# -- snapshots ------------------------------------------------------------------------------


@pytest.mark.parametrize("priority", list(Priority), ids=str)
def test_snapshot_round_trip(priority: Priority) -> None:
    policy = DEFAULTS.for_priority(priority)
    snapshot = policy.snapshot()
    # Plain JSON data: what the store writes, read back as the store reads it.
    restored = Policy.from_snapshot(json.loads(json.dumps(snapshot)))
    assert restored == policy
    assert restored.digest() == policy.digest()


def test_snapshot_round_trip_keeps_channels_reasons_and_actions() -> None:
    restored = Policy.from_snapshot(PERSON_AND_ROOM.snapshot())
    assert restored == PERSON_AND_ROOM


def test_digest_is_stable_and_follows_every_change() -> None:
    digest = P1.digest()
    assert digest == load_defaults().for_priority(Priority.P1).digest()
    assert len(digest) == 64
    changed = [
        dataclasses.replace(P1, steps=(*P1.steps[:1], role(6 * MIN, "secondary"),
                                       *P1.steps[2:])),
        dataclasses.replace(P1, steps=(*P1.steps[:1], role(5 * MIN, "escalation_manager"),
                                       *P1.steps[2:])),
        dataclasses.replace(P1, steps=P1.steps[:2]),
        dataclasses.replace(P1, ack_expires=2 * HOUR),
        dataclasses.replace(P1, multi_system=None),
        dataclasses.replace(P1, channels=("hook",)),
        dataclasses.replace(P1, business_hours_only=True),
        dataclasses.replace(P1, priority=Priority.P2),
    ]
    digests = {p.digest() for p in changed}
    assert digest not in digests
    assert len(digests) == len(changed)
    assert len({p.digest() for p in DEFAULTS.by_priority.values()}) == 4


# -- parsing errors -------------------------------------------------------------------------


def base_document() -> dict[str, Any]:
    return {
        "policies": {
            "P1": {"steps": [{"after": "0m", "notify": "primary"},
                             {"after": "5m", "notify": "secondary"},
                             {"after": "15m", "notify": "escalation_manager"}],
                   "multi_system": "escalation_manager", "ack_expires": "1h"},
            "P2": {"steps": [{"after": "0m", "notify": "primary"}]},
            "P3": {"business_hours_only": True,
                   "steps": [{"after": "0m", "notify": "primary"}]},
            "P4": {"steps": []},
        },
        "routing": {"default_team": "ops",
                    "rules": [{"match": {"component": "postgres*"}, "team": "db"}]},
        "correlation": {"window": "15m", "threshold": 2},
    }


def edit(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    document = copy.deepcopy(base_document())
    change(document)
    return document


def steps(priority: str, *items: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["policies"][priority]["steps"] = list(items)

    return change


def setting(priority: str, key: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["policies"][priority][key] = value

    return change


def test_base_document_is_valid() -> None:
    policies = parse_policies(base_document(), source=SOURCE, channels=["hook"])
    assert policies.routing == Routing(default_team="ops",
                                       rules=(({"component": "postgres*"}, "db"),))
    assert policies.for_priority(Priority.P4).steps == ()


BAD_DOCUMENTS = [
    ("not a mapping", ["P1"], None, "(top)", "must be a mapping"),
    ("empty file", None, None, "(top)", "must be a mapping"),
    ("unknown top key", edit(lambda d: d.update(policy={})), None, "policy",
     "unknown key; known: policies, routing, correlation"),
    ("no policies", {"routing": {}}, None, "policies", "must map P1..P4"),
    ("unknown priority", edit(lambda d: d["policies"].update(P5={"steps": []})), None,
     "policies.P5", "priorities are P1, P2, P3 and P4"),
    ("missing P4", edit(lambda d: d["policies"].pop("P4")), None, "policies",
     "no policy for P4"),
    ("policy not a mapping", edit(lambda d: d["policies"].update(P2=["primary"])), None,
     "policies.P2", "must be a mapping"),
    ("unknown policy key", edit(setting("P2", "escalate", True)), None,
     "policies.P2.escalate", "unknown key"),
    ("steps not a list", edit(setting("P1", "steps", {"after": "0m", "notify": "primary"})),
     None, "policies.P1.steps", "must be a list of steps"),
    ("steps missing", edit(lambda d: d["policies"]["P2"].pop("steps")), None,
     "policies.P2.steps", "must be a list of steps"),
    ("step not a mapping", edit(steps("P1", "primary")), None, "policies.P1.steps[0]",
     "must be a mapping"),
    ("step with two targets",
     edit(steps("P1", {"after": "0m", "notify": "primary", "person": "alice"})), None,
     "policies.P1.steps[0]", "needs exactly one of 'notify'"),
    ("step without a target", edit(steps("P1", {"after": "0m"})), None,
     "policies.P1.steps[0]", "needs exactly one of 'notify'"),
    ("unknown step key", edit(steps("P1", {"notify": "primary", "wait": "5m"})), None,
     "policies.P1.steps[0].wait", "unknown key"),
    ("unknown role", edit(steps("P1", {"after": "0m", "notify": "tertiary"})), None,
     "policies.P1.steps[0].notify", "unknown role 'tertiary'"),
    ("empty person", edit(steps("P1", {"after": "0m", "person": ""})), None,
     "policies.P1.steps[0].person", "must be a non-empty name"),
    ("bad duration",
     edit(steps("P1", {"after": "0m", "notify": "primary"},
                {"after": "5 minutes", "notify": "secondary"})), None,
     "policies.P1.steps[1].after", "'5 minutes' is not a duration"),
    ("duration as a number", edit(steps("P1", {"after": 5, "notify": "primary"})), None,
     "policies.P1.steps[0].after", "must be a duration such as '5m'"),
    ("steps out of order",
     edit(steps("P1", {"after": "0m", "notify": "primary"},
                {"after": "15m", "notify": "escalation_manager"},
                {"after": "5m", "notify": "secondary"})), None,
     "policies.P1.steps[2].after", "steps must be in order of 'after'"),
    ("reason not text", edit(steps("P1", {"notify": "primary", "reason": 5})), None,
     "policies.P1.steps[0].reason", "must be text"),
    ("unknown channel in a step",
     edit(steps("P1", {"after": "0m", "notify": "primary", "channels": ["pager"]})),
     ["hook", "mail"], "policies.P1.steps[0].channels", "unknown channel 'pager' (hook, mail)"),
    ("unknown channel in a channel step",
     edit(steps("P2", {"after": "0m", "channel": "room"})), ["hook"],
     "policies.P2.steps[0].channel", "unknown channel 'room'"),
    ("unknown channel in a policy", edit(setting("P3", "channels", ["hook", "sms"])),
     ["hook"], "policies.P3.channels", "unknown channel 'sms'"),
    ("a channel with none configured", edit(setting("P3", "channels", "hook")), [],
     "policies.P3.channels", "unknown channel 'hook' (none are configured)"),
    ("channels not names", edit(setting("P3", "channels", [1])), None,
     "policies.P3.channels", "must be a list of channel names"),
    ("multi_system not a role", edit(setting("P1", "multi_system", "cto")), None,
     "policies.P1.multi_system", "must be one of primary, secondary, escalation_manager"),
    ("ack_expires 0", edit(setting("P1", "ack_expires", 0)), None, "policies.P1.ack_expires",
     "must be longer than 0"),
    ("ack_expires 0s", edit(setting("P1", "ack_expires", "0s")), None,
     "policies.P1.ack_expires", "must be longer than 0"),
    ("ack_expires not a duration", edit(setting("P1", "ack_expires", "an hour")), None,
     "policies.P1.ack_expires", "is not a duration"),
    ("business_hours_only 'yes'", edit(setting("P3", "business_hours_only", "yes")), None,
     "policies.P3.business_hours_only", "must be true or false"),
    ("routing not a mapping", edit(lambda d: d.update(routing=["ops"])), None, "routing",
     "must be a mapping"),
    ("routing default not a name", edit(lambda d: d["routing"].update(default_team=3)), None,
     "routing.default_team", "must be a team name"),
    ("routing rule with a bad match key",
     edit(lambda d: d["routing"].update(rules=[{"match": {"severity": "crit*"},
                                                "team": "ops"}])),
     None, "routing.rules[0].match", "must match on component, host and/or service"),
    ("routing rule with an empty match",
     edit(lambda d: d["routing"].update(rules=[{"match": {}, "team": "ops"}])), None,
     "routing.rules[0].match", "must match on"),
    ("routing rule without a team",
     edit(lambda d: d["routing"]["rules"].append({"match": {"host": "web-*"}})), None,
     "routing.rules[1]", "must be {match:"),
    ("correlation threshold 1", edit(lambda d: d["correlation"].update(threshold=1)), None,
     "correlation.threshold", "must be a whole number >= 2"),
    ("correlation threshold true", edit(lambda d: d["correlation"].update(threshold=True)),
     None, "correlation.threshold", "must be a whole number >= 2"),
    ("correlation window", edit(lambda d: d["correlation"].update(window="soon")), None,
     "correlation.window", "is not a duration"),
    ("unknown correlation key", edit(lambda d: d["correlation"].update(systems=2)), None,
     "correlation.systems", "unknown key"),
]


@pytest.mark.parametrize(("document", "channels", "key", "reason"),
                         [row[1:] for row in BAD_DOCUMENTS],
                         ids=[row[0] for row in BAD_DOCUMENTS])
def test_parse_errors_name_key_and_reason(document: object, channels: list[str] | None,
                                          key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_policies(document, source=SOURCE, channels=channels)
    assert caught.value.source == SOURCE
    assert caught.value.key == key
    assert reason in caught.value.reason
    assert str(caught.value) == f"{SOURCE}: {key}: {caught.value.reason}"


@pytest.mark.parametrize(("step", "expected"), [
    ({"notify": "secondary"}, Step(after=0, action="notify_role", target="secondary")),
    ({"after": 0, "person": "dave", "reason": "owner"},
     Step(after=0, action="notify_person", target="dave", reason="owner")),
    ({"after": "1h30m", "channel": "hook"},
     Step(after=5400, action="notify_channel", target="", channels=("hook",))),
    ({"after": "2m", "notify": "primary", "channels": "hook"},
     Step(after=120, action="notify_role", target="primary", channels=("hook",))),
])
def test_step_forms(step: dict[str, Any], expected: Step) -> None:
    document = edit(steps("P2", step))
    policies = parse_policies(document, source=SOURCE, channels=["hook"])
    assert policies.for_priority(Priority.P2).steps == (expected,)


def test_roles_match_the_schedule_roles() -> None:
    from alerting.schedule import ROLES as SCHEDULE_ROLES

    assert ROLES == SCHEDULE_ROLES


# -- routing ---------------------------------------------------------------------------------


ROUTING = Routing(default_team="ops", rules=(
    ({"component": "postgres*"}, "db"),
    ({"host": "web-*", "service": "nginx"}, "web"),
    ({"service": "*"}, "services"),
))


@pytest.mark.parametrize(("routing", "facts", "team"), [
    (ROUTING, {"component": "postgresql", "host": "db1"}, "db"),
    # The first matching rule wins, even when a later one matches too.
    (ROUTING, {"component": "postgres", "host": "web-1", "service": "nginx"}, "db"),
    (ROUTING, {"component": "php", "host": "web-1", "service": "nginx"}, "web"),
    # Every glob of a rule must match.
    (ROUTING, {"host": "web-1", "service": "haproxy"}, "services"),
    (ROUTING, {"host": "app-1", "service": "nginx"}, "services"),
    # A missing fact matches nothing, not even '*'.
    (ROUTING, {"host": "web-1"}, "ops"),
    (ROUTING, {"host": "web-1", "service": None}, "ops"),
    # Globs are case-sensitive.
    (ROUTING, {"component": "Postgres"}, "ops"),
    (ROUTING, {}, "ops"),
    (Routing(), {"component": "postgres"}, None),
    (Routing(rules=(({"host": "db?"}, "db"),)), {"host": "db1"}, "db"),
    (Routing(rules=(({"host": "db?"}, "db"),)), {"host": "db10"}, None),
])
def test_routing_team_for(routing: Routing, facts: dict[str, str | None],
                          team: str | None) -> None:
    assert routing.team_for(facts) == team


def test_parsed_routing_routes() -> None:
    document = edit(lambda d: d.update(routing={"default_team": "ops", "rules": [
        {"match": {"host": "db*", "component": "postgres"}, "team": "db"},
        {"match": {"service": "shop"}, "team": "web"}]}))
    routing = parse_policies(document, source=SOURCE).routing
    assert routing.team_for({"host": "db3", "component": "postgres"}) == "db"
    assert routing.team_for({"host": "db3", "component": "redis"}) == "ops"
    assert routing.team_for({"service": "shop"}) == "web"
