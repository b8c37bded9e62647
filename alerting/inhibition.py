"""Inhibition: while one alert fires, others that are part of the same problem stay quiet.

The model is Alertmanager's (https://prometheus.io/docs/alerting/latest/configuration/
#inhibit_rule): an alert matching a rule's `source_matchers` inhibits every alert matching its
`target_matchers` that has the same values for the labels in `equal` (a label missing on both
sides counts as equal, as in Alertmanager). Declared in the rules file::

    inhibit_rules:
      - source_matchers: ['alertname="FilesystemAlmostFull"']
        target_matchers: ['alertname="FilesystemFilling"']
        equal: [host, mountpoint, device]

Matchers use Alertmanager's syntax: ``name="value"``, ``name!="value"``, ``name=~"regex"``,
``name!~"regex"`` (regexes anchored at both ends, as in Alertmanager). The same rules are
exported into Alertmanager's `inhibit_rules` (alerting/rule_export.py), so both alerting paths
silence the same alerts; the collector applies them too (collector/store/signal_batch.py),
because Alertmanager only holds back notifications it has not sent yet.

`equal` must name `host`: the collector looks for an alert's inhibitors among the active
tickets of its own host, so a rule reaching across hosts would behave differently on the two
paths.

The labels an alert is matched on (`alert_labels`) are those Alertmanager sees for the same
alert: the series' labels, `alertname` (the rule's name), `component`, and `host`, the
canonical host name (never the scrape address).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import re2

from regie.configfile import ConfigError

HOST_LABEL = "host"

_MATCHER = re.compile(r"\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*")
_UNQUOTED = re.compile(r"[^\s\"'{},=!~]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n"}


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label matcher: `name` `op` `value`, op one of = != =~ !~."""

    name: str
    op: str
    value: str

    def __post_init__(self) -> None:
        if self.op not in _MATCH:
            raise ValueError(f"matcher operator must be one of {', '.join(_MATCH)}, "
                             f"not {self.op!r}")
        if self.op in ("=~", "!~"):
            try:
                linear_regex(self.value)
            except re2.error as exc:
                raise ValueError(f"{self.value!r} is not a regular expression (RE2 syntax, as "
                                 f"Alertmanager's): {_reason(exc)}") from None

    def matches(self, labels: Mapping[str, str]) -> bool:
        return _MATCH[self.op](labels.get(self.name, ""), self.value)

    def __str__(self) -> str:
        """Alertmanager's form, value always quoted: ``alertname="FilesystemFilling"``."""
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{escaped}"'


# RE2 (Google's, as Go's regexp that Alertmanager uses) matches in time linear in the value:
# Python's re backtracks, so a matcher such as x=~"(a+)+b" against a label of 30 a's took
# minutes, in the intake, for every sender's alerts. Errors are answered, not logged.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@functools.lru_cache(maxsize=4096)
def linear_regex(pattern: str) -> Any:
    """`pattern` compiled by RE2 (`re2.error` when RE2 cannot read it: backreferences,
    lookarounds); `.fullmatch(value)` as re's."""
    return re2.compile(pattern, _RE2_OPTIONS)


def _reason(exc: Exception) -> str:
    text = exc.args[0] if exc.args else exc
    return text.decode(errors="replace") if isinstance(text, bytes) else str(text)


def _regex_match(value: str, pattern: str) -> bool:
    return linear_regex(pattern).fullmatch(value) is not None


# Operators as a table: Alertmanager's four label matcher types.
_MATCH = {
    "=": lambda value, wanted: value == wanted,
    "!=": lambda value, wanted: value != wanted,
    "=~": _regex_match,
    "!~": lambda value, pattern: not _regex_match(value, pattern),
}


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """While an alert matching `source_matchers` fires, alerts matching `target_matchers`
    with the same `equal` labels are inhibited."""

    source_matchers: tuple[Matcher, ...]
    target_matchers: tuple[Matcher, ...]
    equal: tuple[str, ...]

    def is_source(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.source_matchers)

    def is_target(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.target_matchers)

    def inhibits(self, source: Mapping[str, str], target: Mapping[str, str]) -> bool:
        """Whether an alert with labels `source` inhibits one with labels `target`."""
        return (self.is_target(target) and self.is_source(source)
                and all(source.get(n, "") == target.get(n, "") for n in self.equal))


class RuleIndex:
    """Rules looked up by the alert's name: which may have an alert as target, or as source.

    A rule whose target (or source) matchers include ``alertname="X"`` can only match an alert
    named X, and nearly every rule names one, so an alert is checked against the rules for its
    name and the few that name none, not against every rule (the intake asks this for each
    alert that may open a ticket). Same answers as asking every rule."""

    __slots__ = ("_source_names", "_sources", "_targets", "rules")

    def __init__(self, rules: Sequence[InhibitRule]) -> None:
        self.rules = tuple(rules)
        self._targets = _by_alertname(self.rules, "target_matchers")
        self._sources = _by_alertname(self.rules, "source_matchers")
        self._source_names: dict[str, bool] = {}

    def may_be_source_named(self, alertname: str) -> bool:
        """Whether an alert of this name may inhibit others by some rule: its `alertname`
        matchers accept the name (a rule without one: any name). Remembered per name."""
        known = self._source_names.get(alertname)
        if known is None:
            if len(self._source_names) >= 10_000:
                self._source_names.clear()
            labels = {"alertname": alertname}
            known = any(all(m.matches(labels) for m in rule.source_matchers
                            if m.name == "alertname") for rule in self.rules)
            self._source_names[alertname] = known
        return known

    def is_target(self, labels: Mapping[str, str]) -> bool:
        named, general = self._targets
        return any(rule.is_target(labels)
                   for rule in named.get(labels.get("alertname", ""), general))

    def is_source(self, labels: Mapping[str, str]) -> bool:
        named, general = self._sources
        return any(rule.is_source(labels)
                   for rule in named.get(labels.get("alertname", ""), general))


@functools.lru_cache(maxsize=8)
def rule_index(rules: tuple[InhibitRule, ...]) -> RuleIndex:
    """The index of these rules (made once per rule set)."""
    return RuleIndex(rules)


def _by_alertname(rules: tuple[InhibitRule, ...], side: str,
                  ) -> tuple[dict[str, tuple[InhibitRule, ...]], tuple[InhibitRule, ...]]:
    """(alert name -> the rules that may match it, the rules for any other name): a rule
    with an `alertname="X"` matcher on `side` goes under X only, the others under every name."""
    named: dict[str, list[InhibitRule]] = {}
    general: list[InhibitRule] = []
    for rule in rules:
        names = {m.value for m in getattr(rule, side) if m.name == "alertname" and m.op == "="}
        if len(names) == 1:
            named.setdefault(names.pop(), []).append(rule)
        elif not names:
            general.append(rule)
        # two different alertname= values on one side: the rule matches no alert
    return ({name: (*found, *general) for name, found in named.items()}, tuple(general))


def inhibited_by(rules: Sequence[InhibitRule], source: Mapping[str, str],
                 target: Mapping[str, str]) -> bool:
    """Whether any of `rules` lets `source` inhibit `target`."""
    return any(rule.inhibits(source, target) for rule in rules)


def alert_labels(*, details: Mapping[str, Any], host: str | None,
                 component: str | None) -> dict[str, str]:
    """The labels inhibit rules see for a monitoring alert (a signal or a stored ticket).

    Alertmanager alerts keep their labels in ``details["labels"]``; the embedded evaluator
    keeps the series' labels there and its rule's name in ``details["rule"]``, which is the
    `alertname` Prometheus gives the exported rule. `host` is always the canonical host."""
    raw = details.get("labels")
    labels = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
    rule = details.get("rule")
    if isinstance(rule, str) and "alertname" not in labels:
        labels["alertname"] = rule
    if component and "component" not in labels:
        labels["component"] = component
    if host:
        labels[HOST_LABEL] = host
    else:
        labels.pop(HOST_LABEL, None)
    return labels


# --------------------------------------------------------------------------- parsing

_RULE_KEYS = ("source_matchers", "target_matchers", "equal")


def parse_matcher(text: str) -> Matcher:
    """``name="value"`` (or =~, !=, !~; the value may be unquoted) -> Matcher, or ValueError."""
    match = _MATCHER.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a matcher such as 'alertname=\"DiskFull\"' "
                         "(operators: = != =~ !~)")
    name, op, raw = match.groups()
    if raw.startswith('"'):
        value = _unquote(raw, text)
    elif _UNQUOTED.fullmatch(raw):
        value = raw
    else:
        raise ValueError(f"{text!r}: quote the value with double quotes")
    return Matcher(name, op, value)


def _unquote(raw: str, text: str) -> str:
    out, i = [], 1
    while i < len(raw):
        char = raw[i]
        if char == "\\" and i + 1 < len(raw):
            escaped = raw[i + 1]
            if escaped not in _ESCAPES:
                raise ValueError(f"{text!r}: unknown escape '\\{escaped}'")
            out.append(_ESCAPES[escaped])
            i += 2
            continue
        if char == '"':
            if i != len(raw) - 1:
                raise ValueError(f"{text!r}: text after the closing quote")
            return "".join(out)
        out.append(char)
        i += 1
    raise ValueError(f"{text!r}: no closing quote")


def parse_inhibit_rules(items: object, *, source: str,
                        key: str = "inhibit_rules") -> tuple[InhibitRule, ...]:
    """Validate the `inhibit_rules` list of a rules file, or raise ConfigError(file, key, why)."""
    if items is None:
        return ()
    if not isinstance(items, list):
        raise ConfigError(source, key, "must be a list of rules with source_matchers, "
                                       "target_matchers and equal")
    return tuple(_parse_rule(item, source=source, key=f"{key}[{i}]")
                 for i, item in enumerate(items))


def _parse_rule(item: object, *, source: str, key: str) -> InhibitRule:
    if not isinstance(item, Mapping):
        raise ConfigError(source, key, "must be a mapping with source_matchers, "
                                       "target_matchers and equal")
    for name in item:
        if name not in _RULE_KEYS:
            hint = {"source_match": "source_matchers", "target_match": "target_matchers",
                    "source_match_re": "source_matchers", "target_match_re": "target_matchers",
                    }.get(str(name))
            why = f" (write {hint} with matchers such as 'name=~\"regex\"')" if hint else ""
            raise ConfigError(source, f"{key}.{name}", f"unknown key{why}")
    for name in _RULE_KEYS:
        if name not in item:
            raise ConfigError(source, f"{key}.{name}", "is required")

    def matchers(name: str) -> tuple[Matcher, ...]:
        value = item[name]
        if not isinstance(value, list) or not value:
            raise ConfigError(source, f"{key}.{name}",
                              "must be a non-empty list of matchers such as "
                              "'alertname=\"FilesystemAlmostFull\"'")
        out = []
        for i, text in enumerate(value):
            if not isinstance(text, str):
                raise ConfigError(source, f"{key}.{name}[{i}]", "must be a string (quote it)")
            try:
                out.append(parse_matcher(text))
            except ValueError as exc:
                raise ConfigError(source, f"{key}.{name}[{i}]", str(exc)) from None
        return tuple(out)

    sources, targets = matchers("source_matchers"), matchers("target_matchers")
    equal = item["equal"]
    if not isinstance(equal, list) or not all(isinstance(n, str) for n in equal):
        raise ConfigError(source, f"{key}.equal", "must be a list of label names")
    for i, name in enumerate(equal):
        if not _LABEL_NAME.fullmatch(name):
            raise ConfigError(source, f"{key}.equal[{i}]", f"{name!r} is not a label name")
    if HOST_LABEL not in equal:
        raise ConfigError(source, f"{key}.equal", "must include 'host': an alert is inhibited "
                                                  "only by alerts of its own host")
    return InhibitRule(sources, targets, tuple(dict.fromkeys(equal)))
