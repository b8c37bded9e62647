"""Escalation policies: what each priority's escalation does, as written in YAML and as
snapshotted onto tickets.

`parse_policies` turns the policy document (collector/data/default_escalation.yml, or the
file in `[oncall] policy_file`) into frozen `Policy` values, one per priority, with the
routing (which team answers) and the correlation settings; every problem is a
`ConfigError(source, key, reason)`. `Policy.snapshot()` is the plain JSON stored with a
running escalation, so editing the file later does not change it (grafana/oncall's
escalation snapshot does the same). What an escalation does at a moment is
alerting/escalation.py.

Times in a policy count from the escalation's epoch: the ticket's opening, or the moment an
expired acknowledgement re-paged. "Secondary after 5m" means five minutes after the ticket
opened, whatever happened to the primary's notification.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alerting.rules import parse_duration
from alerting.ticket import Priority
from regie.configfile import ConfigError

ROLES = ("primary", "secondary", "escalation_manager")


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
