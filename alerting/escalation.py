"""Escalation policies and the decision of what a due escalation does now.

Pure: `parse_policies` turns the YAML document into frozen `Policy` values; `decide` takes a
policy snapshot, the escalation's state, the ticket's facts, `now` and two lookups (who is on
call, business hours) and returns a `Decision` (notifications to queue, audit records, the
next state and due time). The store (collector/store/escalations.py) claims due escalations
and writes decisions; nothing here touches a clock, a database or a network.

A policy is snapshotted onto a ticket when the ticket opens (`Policy.snapshot()`, stored
with the escalation), so editing the file later does not change running escalations
(grafana/oncall's escalation snapshot does the same).

Times in a policy count from the escalation's epoch: the ticket's opening, or the moment an
expired acknowledgement re-paged. "Secondary after 5m" means five minutes after the ticket
opened, whatever happened to the primary's notification.

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
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerting.rules import format_duration, parse_duration
from alerting.ticket import Priority, Status
from regie.configfile import ConfigError

ROLES = ("primary", "secondary", "escalation_manager")


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    after: float                       # seconds from the escalation's epoch
    action: str                        # a key of STEP_ACTIONS
    target: str                        # a role, a person, or nothing (channel-only)
    channels: tuple[str, ...] = ()     # empty: the policy's channels (empty: every channel)
    reason: str = ""                   # why this step exists, for the audit record


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    priority: Priority
    steps: tuple[Step, ...]
    channels: tuple[str, ...] = ()
    business_hours_only: bool = False
    ack_expires: float | None = None           # seconds; None: an acknowledgement holds
    multi_system: str | None = None            # role notified when impact spans systems

    def snapshot(self) -> dict[str, Any]:
        """The policy as plain JSON data: what is stored with a running escalation."""
        return {
            "priority": self.priority.value,
            "channels": list(self.channels),
            "business_hours_only": self.business_hours_only,
            "ack_expires": self.ack_expires,
            "multi_system": self.multi_system,
            "steps": [{"after": s.after, "action": s.action, "target": s.target,
                       "channels": list(s.channels), "reason": s.reason} for s in self.steps],
        }

    def digest(self) -> str:
        """Identifies this exact policy: equal snapshots share one stored row."""
        text = json.dumps(self.snapshot(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> Policy:
        return cls(
            priority=Priority(data["priority"]),
            channels=tuple(data.get("channels", ())),
            business_hours_only=bool(data.get("business_hours_only", False)),
            ack_expires=data.get("ack_expires"),
            multi_system=data.get("multi_system"),
            steps=tuple(Step(after=float(s["after"]), action=s["action"], target=s["target"],
                             channels=tuple(s.get("channels", ())), reason=s.get("reason", ""))
                        for s in data["steps"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Routing:
    """Which team's schedule answers for a ticket: the first rule whose globs all match."""

    default_team: str | None = None
    rules: tuple[tuple[Mapping[str, str], str], ...] = ()   # ({field: glob}, team)

    def team_for(self, facts: Mapping[str, str | None]) -> str | None:
        import fnmatch

        for match, team in self.rules:
            if all(facts.get(name) is not None and fnmatch.fnmatchcase(str(facts[name]), glob)
                   for name, glob in match.items()):
                return team
        return self.default_team


@dataclass(frozen=True, slots=True, kw_only=True)
class Correlation:
    """"Impact beyond one system": active tickets sharing a component or a service, opened
    within `window` seconds of each other, on at least `threshold` distinct systems."""

    window: float = 900.0
    threshold: int = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Policies:
    by_priority: Mapping[Priority, Policy]
    routing: Routing = Routing()
    correlation: Correlation = Correlation()
    source: str = "<defaults>"

    def for_priority(self, priority: Priority) -> Policy:
        return self.by_priority[priority]


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


# -- parsing ------------------------------------------------------------------------------


_POLICY_KEYS = ("steps", "channels", "business_hours_only", "ack_expires", "multi_system")
_STEP_KEYS = ("after", "notify", "person", "channel", "channels", "reason")
_TOP_KEYS = ("policies", "routing", "correlation")


def parse_policies(document: object, *, source: str,
                   channels: Sequence[str] | None = None) -> Policies:
    """Policies from the YAML document; ConfigError(source, key, reason) for any problem.

    `channels`: the configured channel names; a step naming another is refused at start.
    """
    if not isinstance(document, Mapping):
        raise ConfigError(source, "(top)", "must be a mapping with a 'policies' key")
    _refuse_unknown(document, _TOP_KEYS, source=source, prefix="")
    raw = document.get("policies")
    if not isinstance(raw, Mapping):
        raise ConfigError(source, "policies", "must map P1..P4 to a policy")
    by_priority: dict[Priority, Policy] = {}
    for name, body in raw.items():
        key = f"policies.{name}"
        try:
            priority = Priority(name)
        except ValueError:
            raise ConfigError(source, key, "priorities are P1, P2, P3 and P4") from None
        by_priority[priority] = _parse_policy(priority, body, source=source, key=key,
                                              channels=channels)
    missing = [p.value for p in Priority if p not in by_priority]
    if missing:
        raise ConfigError(source, "policies", f"no policy for {', '.join(missing)}: every "
                                              "priority needs one (an empty steps list is "
                                              "allowed)")
    return Policies(by_priority=by_priority,
                    routing=_parse_routing(document.get("routing"), source=source),
                    correlation=_parse_correlation(document.get("correlation"), source=source),
                    source=source)


def _parse_policy(priority: Priority, body: object, *, source: str, key: str,
                  channels: Sequence[str] | None) -> Policy:
    if not isinstance(body, Mapping):
        raise ConfigError(source, key, "must be a mapping with 'steps'")
    _refuse_unknown(body, _POLICY_KEYS, source=source, prefix=key)
    policy_channels = _channel_list(body.get("channels", []), source=source,
                                    key=f"{key}.channels", known=channels)
    steps_raw = body.get("steps")
    if not isinstance(steps_raw, list):
        raise ConfigError(source, f"{key}.steps", "must be a list of steps")
    steps = []
    last = -1.0
    for index, item in enumerate(steps_raw):
        step_key = f"{key}.steps[{index}]"
        step = _parse_step(item, source=source, key=step_key, known=channels)
        if step.after < last:
            raise ConfigError(source, f"{step_key}.after",
                              "steps must be in order of 'after' (times count from the "
                              "ticket's opening, not from the previous step)")
        last = step.after
        steps.append(step)
    multi = body.get("multi_system")
    if multi is not None and multi not in ROLES:
        raise ConfigError(source, f"{key}.multi_system", f"must be one of {', '.join(ROLES)}")
    ack = body.get("ack_expires")
    ack_seconds = None
    if ack is not None:
        ack_seconds = _duration(ack, source=source, key=f"{key}.ack_expires")
        if ack_seconds <= 0:
            raise ConfigError(source, f"{key}.ack_expires", "must be longer than 0")
    hours = body.get("business_hours_only", False)
    if not isinstance(hours, bool):
        raise ConfigError(source, f"{key}.business_hours_only", "must be true or false")
    return Policy(priority=priority, steps=tuple(steps), channels=policy_channels,
                  business_hours_only=hours, ack_expires=ack_seconds, multi_system=multi)


def _parse_step(item: object, *, source: str, key: str,
                known: Sequence[str] | None) -> Step:
    if not isinstance(item, Mapping):
        raise ConfigError(source, key, "must be a mapping such as {after: 5m, notify: "
                                       "secondary}")
    _refuse_unknown(item, _STEP_KEYS, source=source, prefix=key)
    targets = [name for name in ("notify", "person", "channel") if name in item]
    if len(targets) != 1:
        raise ConfigError(source, key, "needs exactly one of 'notify' (a role), 'person' or "
                                       "'channel'")
    after = _duration(item.get("after", "0"), source=source, key=f"{key}.after")
    step_channels = _channel_list(item.get("channels", []), source=source,
                                  key=f"{key}.channels", known=known)
    reason = item.get("reason", "")
    if not isinstance(reason, str):
        raise ConfigError(source, f"{key}.reason", "must be text")
    which = targets[0]
    value = item[which]
    if not isinstance(value, str) or not value:
        raise ConfigError(source, f"{key}.{which}", "must be a non-empty name")
    if which == "notify":
        if value not in ROLES:
            raise ConfigError(source, f"{key}.notify", f"unknown role {value!r}; one of "
                                                       f"{', '.join(ROLES)}")
        return Step(after=after, action="notify_role", target=value, channels=step_channels,
                    reason=reason)
    if which == "person":
        return Step(after=after, action="notify_person", target=value,
                    channels=step_channels, reason=reason)
    channel = _channel_list([value], source=source, key=f"{key}.channel", known=known)
    return Step(after=after, action="notify_channel", target="", channels=channel,
                reason=reason)


def _parse_routing(data: object, *, source: str) -> Routing:
    if data is None:
        return Routing()
    if not isinstance(data, Mapping):
        raise ConfigError(source, "routing", "must be a mapping with 'default_team' and "
                                             "'rules'")
    _refuse_unknown(data, ("default_team", "rules"), source=source, prefix="routing")
    default = data.get("default_team")
    if default is not None and not isinstance(default, str):
        raise ConfigError(source, "routing.default_team", "must be a team name")
    rules = []
    for index, item in enumerate(data.get("rules") or []):
        key = f"routing.rules[{index}]"
        if not isinstance(item, Mapping) or set(item) != {"match", "team"}:
            raise ConfigError(source, key, "must be {match: {component|host|service: glob}, "
                                           "team: NAME}")
        match = item["match"]
        if (not isinstance(match, Mapping) or not match
                or not set(match) <= {"component", "host", "service"}):
            raise ConfigError(source, f"{key}.match", "must match on component, host and/or "
                                                      "service")
        rules.append(({str(k): str(v) for k, v in match.items()}, str(item["team"])))
    return Routing(default_team=default, rules=tuple(rules))


def _parse_correlation(data: object, *, source: str) -> Correlation:
    if data is None:
        return Correlation()
    if not isinstance(data, Mapping):
        raise ConfigError(source, "correlation", "must be a mapping with 'window' and "
                                                 "'threshold'")
    _refuse_unknown(data, ("window", "threshold"), source=source, prefix="correlation")
    window = _duration(data.get("window", "15m"), source=source, key="correlation.window")
    threshold = data.get("threshold", 2)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 2:
        raise ConfigError(source, "correlation.threshold", "must be a whole number >= 2 (the "
                                                           "systems that make it 'more than "
                                                           "one')")
    return Correlation(window=window, threshold=threshold)


def _channel_list(value: object, *, source: str, key: str,
                  known: Sequence[str] | None) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(source, key, "must be a list of channel names")
    if known is not None:
        for name in value:
            if name not in known:
                have = ", ".join(sorted(known)) or "none are configured"
                raise ConfigError(source, key, f"unknown channel {name!r} ({have})")
    return tuple(value)


def _duration(value: object, *, source: str, key: str) -> float:
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return 0.0
    if not isinstance(value, str):
        raise ConfigError(source, key, "must be a duration such as '5m' or '1h'")
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ConfigError(source, key, str(exc)) from None


def _refuse_unknown(data: Mapping[Any, Any], known: Sequence[str], *, source: str,
                    prefix: str) -> None:
    for name in data:
        if name not in known:
            where = f"{prefix}.{name}" if prefix else str(name)
            raise ConfigError(source, where, f"unknown key; known: {', '.join(known)}")
