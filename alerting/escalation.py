"""What a due escalation does now: notify whom, audit what, look again when.

Pure: `decide` takes a policy snapshot (alerting/escalation_policy.py: the policies, their
parsing and snapshots), the escalation's state, the ticket's facts, `now` and two lookups
(who is on call, business hours) and returns a `Decision` (notifications to queue, audit
records, the next state and due time). The store (collector/store/escalations.py) claims due
escalations and writes decisions; nothing here touches a clock, a database or a network.

Defaults (docs/oncall.md, collector/data/default_escalation.yml):

- P1: primary at once, secondary after 5 min without acknowledgement, escalation manager
  after 15 min, and the escalation manager at once when the correlated impact spans more
  than one system.
- P2: primary at once, secondary after 15 min.
- P3/P4: primary in business hours only (no night paging); secondary only when the
  acknowledgement SLA (P3 4h, P4 1d) is breached.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerting.escalation_policy import Policy, Step
from alerting.rules import format_duration
from alerting.ticket import Priority, Status


class State(enum.StrEnum):
    """Where an escalation stands (stored with it)."""

    RUNNING = "running"            # steps left, or waiting for the ticket to change
    ACKNOWLEDGED = "acknowledged"  # paused by an acknowledgement (until it expires)
    DONE = "done"                  # the ticket is resolved: nothing more will happen


class NoticeKind(enum.StrEnum):
    TRIGGER = "trigger"              # the first step: the ticket is new to its recipient
    ESCALATE = "escalate"            # a later step: nobody acknowledged in time
    REACKNOWLEDGE = "reacknowledge"  # an acknowledgement expired: paging again
    MULTI_SYSTEM = "multi_system"    # impact spans more than one system
    RESOLVE = "resolve"              # the ticket was resolved: to everyone notified


# -- deciding -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification to queue: to a person (via their channels) or a channel alone."""

    kind: NoticeKind
    recipient: str | None          # a person's name; None for a channel-only notice
    role: str | None
    channels: tuple[str, ...]
    step: int | None               # the step's number (1-based), None for resolve/multi-system
    reason: str


@dataclass(frozen=True, slots=True)
class Audit:
    kind: str          # timeline kind: escalated, escalation_failed, escalation_held, ...
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationState:
    next_step: int                      # index into the snapshot's steps
    state: State
    epoch: datetime                     # `after` counts from here
    notified: tuple[tuple[str | None, tuple[str, ...]], ...] = ()  # (person, channels) so far
    multi_system_at: datetime | None = None   # when the multi-system notice went out


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketFacts:
    status: Status
    priority: Priority
    team: str | None
    acknowledged_at: datetime | None
    systems_affected: int = 1          # distinct systems in the ticket's correlation group


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    notices: tuple[Notice, ...]
    audits: tuple[Audit, ...]
    state: EscalationState
    due_at: datetime | None            # when to look again; None: only when the ticket changes
    reopen: bool = False               # an acknowledgement expired: the ticket is open again


# who(role, team, at) -> the people on call (empty: nobody)
WhoIsOnCall = Callable[[str, str | None, datetime], Sequence[str]]
# business_hours(team, at) -> (inside now?, when they next begin)
BusinessHours = Callable[[str | None, datetime], tuple[bool, datetime | None]]


def _notify_role(step: Step, team: str | None, at: datetime,
                 who: WhoIsOnCall) -> tuple[tuple[str | None, ...], str | None]:
    people = tuple(who(step.target, team, at))
    if not people:
        where = f" for team {team}" if team else ""
        return (), f"nobody is on call as {step.target}{where}"
    return people, None


def _notify_person(step: Step, team: str | None, at: datetime,
                   who: WhoIsOnCall) -> tuple[tuple[str | None, ...], str | None]:
    return (step.target,), None


def _notify_channel(step: Step, team: str | None, at: datetime,
                    who: WhoIsOnCall) -> tuple[tuple[str | None, ...], str | None]:
    return (None,), None


# Step actions: how a step finds its recipients. (recipients, failure reason)
STEP_ACTIONS: Mapping[str, Callable[..., tuple[tuple[str | None, ...], str | None]]] = {
    "notify_role": _notify_role,
    "notify_person": _notify_person,
    "notify_channel": _notify_channel,
}


def decide(policy: Policy, state: EscalationState, ticket: TicketFacts, now: datetime, *,
           who: WhoIsOnCall, hours: BusinessHours) -> Decision:
    """What the escalation does at `now`. Called when it is due or its ticket changed."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        return _finish(state, ticket)
    notices: list[Notice] = []
    audits: list[Audit] = []
    if ticket.status is Status.ACKNOWLEDGED:
        ack = ticket.acknowledged_at or now
        if policy.ack_expires is None:
            if state.state is not State.ACKNOWLEDGED:
                audits.append(Audit("escalation_paused", "escalation stopped: acknowledged"))
            return Decision(notices=(), audits=tuple(audits), due_at=None,
                            state=_with(state, state=State.ACKNOWLEDGED))
        expires = ack + timedelta(seconds=policy.ack_expires)
        if now < expires:
            if state.state is not State.ACKNOWLEDGED:
                audits.append(Audit(
                    "escalation_paused",
                    f"escalation paused: acknowledged; the acknowledgement expires after "
                    f"{format_duration(policy.ack_expires)}",
                    {"expires_at": expires.isoformat()}))
            return Decision(notices=(), audits=tuple(audits), due_at=expires,
                            state=_with(state, state=State.ACKNOWLEDGED))
        audits.append(Audit(
            "acknowledgement_expired",
            f"acknowledgement expired after {format_duration(policy.ack_expires)} without "
            f"resolution: paging again from the first step",
            {"acknowledged_at": ack.isoformat()}))
        state = _with(state, state=State.RUNNING, next_step=0, epoch=now)
        running = _run(policy, state, ticket, now, who=who, hours=hours, repage=True)
        return Decision(notices=running.notices, audits=(*audits, *running.audits),
                        state=running.state, due_at=running.due_at, reopen=True)
    # Open.
    if state.state is not State.RUNNING:
        state = _with(state, state=State.RUNNING)
    return _run(policy, state, ticket, now, who=who, hours=hours, repage=False,
                notices=notices, audits=audits)


def _run(policy: Policy, state: EscalationState, ticket: TicketFacts, now: datetime, *,
         who: WhoIsOnCall, hours: BusinessHours, repage: bool,
         notices: list[Notice] | None = None, audits: list[Audit] | None = None) -> Decision:
    notices = [] if notices is None else notices
    audits = [] if audits is None else audits
    notified = list(state.notified)
    multi_at = state.multi_system_at
    # Correlated impact: the policy's multi-system role, once per escalation.
    if (policy.multi_system and multi_at is None and ticket.systems_affected > 1):
        people, failure = _notify_role(
            Step(after=0, action="notify_role", target=policy.multi_system), ticket.team, now,
            who)
        reason = (f"impact spans {ticket.systems_affected} systems: "
                  f"{policy.multi_system} decides")
        if failure:
            audits.append(Audit("escalation_failed", f"{reason}; {failure}",
                                {"role": policy.multi_system}))
        else:
            channels = policy.channels
            for person in people:
                notices.append(Notice(NoticeKind.MULTI_SYSTEM, person, policy.multi_system,
                                      channels, None, reason))
                notified.append((person, channels))
            audits.append(Audit("escalated", f"{reason}: notified {_names(people)}",
                                {"role": policy.multi_system, "recipients": list(people),
                                 "systems_affected": ticket.systems_affected}))
        multi_at = now
    step_index = state.next_step
    due_at: datetime | None = None
    while step_index < len(policy.steps):
        step = policy.steps[step_index]
        step_due = state.epoch + timedelta(seconds=step.after)
        if step_due > now:
            due_at = step_due
            break
        if policy.business_hours_only:
            inside, next_start = hours(ticket.team, now)
            if not inside:
                held = next_start
                audits.append(Audit(
                    "escalation_held",
                    f"step {step_index + 1} held until business hours"
                    + (f" ({held.isoformat()})" if held else ""),
                    {"step": step_index + 1}))
                due_at = held
                break
        if (policy.business_hours_only and step_index == 0 and step_due < now
                and not hours(ticket.team, step_due)[0]):
            # The first notice was due outside business hours and waited for them: later
            # steps (an SLA) count from when it went out, not from a night nobody was told
            # of. (Late for another reason, e.g. no collector running: the opening counts.)
            state = _with(state, epoch=now - timedelta(seconds=step.after))
        number = step_index + 1
        channels = step.channels or policy.channels
        action = STEP_ACTIONS.get(step.action)
        if action is None:  # a snapshot from a newer version: say so, go on
            audits.append(Audit("escalation_failed",
                                f"step {number}: unknown action {step.action!r}",
                                {"step": number}))
            step_index += 1
            continue
        people, failure = action(step, ticket.team, now, who)
        label = step.target or "channel"
        why = step.reason or ("first notification" if step_index == 0
                              else f"not acknowledged after {format_duration(step.after)}")
        if failure:
            audits.append(Audit("escalation_failed", f"step {number} ({label}): {failure}",
                                {"step": number, "target": step.target}))
        else:
            kind = (NoticeKind.REACKNOWLEDGE if repage else
                    NoticeKind.TRIGGER if step_index == 0 else NoticeKind.ESCALATE)
            role = step.target if step.action == "notify_role" else None
            for person in people:
                notices.append(Notice(kind, person, role, channels, number, why))
                notified.append((person, channels))
            audits.append(Audit(
                "escalated",
                f"step {number} ({label}): notified {_names(people)} via "
                f"{', '.join(channels) or 'no channel'}: {why}",
                {"step": number, "target": step.target, "recipients": list(people),
                 "channels": list(channels)}))
        step_index += 1
    new_state = _with(state, next_step=step_index, notified=tuple(_unique(notified)),
                      multi_system_at=multi_at, state=State.RUNNING)
    return Decision(notices=tuple(notices), audits=tuple(audits), state=new_state,
                    due_at=due_at)


def _finish(state: EscalationState, ticket: TicketFacts) -> Decision:
    if state.state is State.DONE:
        return Decision(notices=(), audits=(), state=state, due_at=None)
    notices = tuple(Notice(NoticeKind.RESOLVE, person, None, channels, None,
                           f"ticket {ticket.status.value}")
                    for person, channels in state.notified)
    message = f"escalation ended: ticket {ticket.status.value}"
    if notices:
        message += f"; resolve notice to {_names([n.recipient for n in notices])}"
    return Decision(notices=notices, audits=(Audit("escalation_ended", message),),
                    state=_with(state, state=State.DONE), due_at=None)


def _with(current: EscalationState, **changes: Any) -> EscalationState:
    values = {name: getattr(current, name) for name in
              ("next_step", "state", "epoch", "notified", "multi_system_at")}
    values.update(changes)
    return EscalationState(**values)


def _unique(items: Sequence[tuple[str | None, tuple[str, ...]]]):
    seen = set()
    for item in items:
        if item not in seen:
            seen.add(item)
            yield item


def _names(people: Sequence[str | None]) -> str:
    return ", ".join(p or "the channel" for p in people)
