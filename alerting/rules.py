"""Threshold rules: one definition for the embedded evaluator and for Prometheus.

A rules file (YAML; the I/O is in `collector/rules_file.py`) holds a list of threshold rules
on the agent's metrics (docs/metrics.md)::

    rules:
      - name: FilesystemFilling              # letters, digits, '_'; unique; the alert's name
        metric: regie_filesystem_used_ratio  # one metric name
        labels: {fstype: ext4}               # optional: exact label matches
        op: ">"                              # > >= < <= == != (quoted: YAML reads > and ! itself)
        value: 0.9
        for: 10m                             # optional, default 0s: Prometheus durations
        urgency: medium                      # high | medium | low
        component: filesystem
        summary: "{{ labels.mountpoint }} on {{ host }} is {{ value | humanizePercentage }} full"
        description: ""                      # optional, same template syntax
        recovery: resolve                    # optional: resolve | confirm
        host_down: false                     # optional: this alert means the host is down
    inhibit_rules:                           # optional (alerting/inhibition.py)
      - source_matchers: ['alertname="FilesystemAlmostFull"']
        target_matchers: ['alertname="FilesystemFilling"']
        equal: [host, mountpoint, device]

Runbook links: a rule's own `runbook_url` wins; else, with a top-level `runbook_base_url` that
is an http(s) URL, the rule links `<runbook_base_url>/<rule name>.md`; else it has no link
here, and the collector links its bundled page when there is one (`with_runbook_links`:
`<collector's public URL>/runbooks/<rule name>`, collector/runbooks.py).

`parse_rules()` checks all of it and raises `ConfigError(source, "rules[2].op", reason)` on the
first problem. It is pure; `alerting/rule_export.py` renders the same rules as a Prometheus
rule file, so Prometheus and the embedded evaluator alert on the same conditions.

Templates (rendered by alerting/rule_templates.py). Summary and description use a
deliberately small syntax that both our renderer and Prometheus's Go templates can express,
translated one placeholder at a time on export:

    {{ host }}                   the evaluated host        -> {{ $labels.host }} (else instance)
    {{ value }}                  the sample's value        -> {{ $value }}
    {{ labels.NAME }}            one label of the series   -> {{ $labels.NAME }}
    {{ value | FUNCTION }}       humanize, humanize1024, humanizePercentage, humanizeDuration
                                                           -> {{ $value | FUNCTION }}

Numbers are formatted as Go formats them (``{{ value }}`` of 1234567 is ``1.234567e+06``, the
functions are ports of Prometheus's `template/template.go`), so both paths write the same text;
the test suite checks that with `promtool test rules`. `host` is the agent's host name on both
paths when Prometheus gives the series a `host` label, as the shipped configuration does
(deploy/prometheus/); without it Prometheus prints the scrape `instance` (``host:port``).
`instance` and `job` exist only in Prometheus, so rules may neither match on them nor print them.

Evaluation (`Evaluation.step`) follows Prometheus's alerting-rule semantics: a series that
breaches becomes pending, fires once it has breached for `for`, and resolves when it stops
breaching or disappears; a pending one that stops just vanishes. A host whose scrape failed is
different from a host whose series vanished: its states are kept unchanged (no false
resolves), and only rules on the synthetic metric `up` (1 when the scrape worked, 0 when not)
are evaluated for it, which is how the host-down rule `RegieAgentDown` (`up == 0`) works on
both paths. A rules file without a rule on `up` gets no host-down alert; the bundled default
has one. Each alert is one signal when it fires and one when it resolves, with the dedup key
``evaluator:<rule>:<host>[:<label>=<value>,...]`` (the series' labels, sorted).
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from alerting.inhibition import InhibitRule, parse_inhibit_rules
from alerting.range_functions import LOOKBACK_SECONDS, MAX_POINTS, History
from alerting.range_functions import extrapolated_rate as _extrapolated_rate
from alerting.range_functions import predict_linear as _predict_linear
from alerting.rule_templates import SCRAPE_LABELS, go_float, render, template_parts
from alerting.ticket import Action, Recovery, Signal, Urgency
from regie.configfile import ConfigError

ORIGIN = "evaluator"

# The synthetic per-host metric: 1 when the host's scrape worked, 0 when it did not.
UP_METRIC = "up"

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


_RULE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_ABSOLUTE_URL = re.compile(r"https?://", re.IGNORECASE)
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


# Functions a rule may apply before comparing (PromQL in Rule.expression).
FUNCTIONS = ("abs", "time_since", "time_until", "rate", "increase", "predict_linear")
WINDOWED = ("rate", "increase", "predict_linear")


@dataclass(frozen=True, slots=True)
class Guard:
    """A further condition on the series with exactly the alert's labels: `metric op value`."""

    metric: str
    matchers: Mapping[str, str]
    op: str
    value: float

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValueError(f"op must be one of {', '.join(OPERATORS)}, not {self.op!r}")
        object.__setattr__(self, "matchers", MappingProxyType(dict(sorted(self.matchers.items()))))
        object.__setattr__(self, "value", float(self.value))

    @property
    def condition(self) -> str:
        if self.matchers:
            pairs = ",".join(f'{k}="{_promql_string(v)}"' for k, v in self.matchers.items())
            selector = f"{self.metric}{{{pairs}}}"
        else:
            selector = self.metric
        return f"{selector} {self.op} {format_number(self.value)}"

    def holds(self, labels: Mapping[str, str], value: float) -> bool:
        return (all(labels.get(k, "") == v for k, v in self.matchers.items())
                and OPERATORS[self.op](value, self.value))


@dataclass(frozen=True, slots=True)
class Rule:
    """One threshold rule: `metric{matchers} op value`, held for `for_seconds`."""

    name: str
    metric: str
    matchers: Mapping[str, str]
    op: str
    value: float
    for_seconds: float
    urgency: Urgency
    component: str
    summary: str
    description: str = ""
    recovery: Recovery = Recovery.RESOLVE
    host_down: bool = False
    # What the threshold compares (FUNCTIONS); None: the sample's own value.
    function: str | None = None
    window_seconds: float = 0.0       # rate, increase, predict_linear: the range [window]
    ahead_seconds: float = 0.0        # predict_linear: how far ahead
    guards: tuple[Guard, ...] = ()    # PromQL `and`: conditions on the same series' labels
    runbook_url: str | None = None

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValueError(f"op must be one of {', '.join(OPERATORS)}, not {self.op!r}")
        if self.function is not None and self.function not in FUNCTIONS:
            raise ValueError(f"function must be one of {', '.join(FUNCTIONS)}, "
                             f"not {self.function!r}")
        if (self.function in WINDOWED) != (self.window_seconds > 0):
            raise ValueError("window_seconds is needed by, and only by, "
                             f"{', '.join(WINDOWED)}")
        if (self.function == "predict_linear") != (self.ahead_seconds > 0):
            raise ValueError("ahead_seconds is needed by, and only by, predict_linear")
        if self.for_seconds < 0:
            raise ValueError(f"for_seconds must be 0 or more, not {self.for_seconds!r}")
        # Frozen all the way down, and in a stable order for export and dedup keys.
        object.__setattr__(self, "matchers", MappingProxyType(dict(sorted(self.matchers.items()))))
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "for_seconds", float(self.for_seconds))

    @property
    def selector(self) -> str:
        """The PromQL series selector, e.g. ``regie_filesystem_used_ratio{mountpoint="/"}``."""
        if not self.matchers:
            return self.metric
        pairs = ",".join(f'{k}="{_promql_string(v)}"' for k, v in self.matchers.items())
        return f"{self.metric}{{{pairs}}}"

    @property
    def expression(self) -> str:
        """The PromQL of the compared value, e.g. ``rate(regie_x_total[5m])``."""
        window = format_duration(self.window_seconds)
        return {
            None: self.selector,
            "abs": f"abs({self.selector})",
            "time_since": f"time() - {self.selector}",
            "time_until": f"{self.selector} - time()",
            "rate": f"rate({self.selector}[{window}])",
            "increase": f"increase({self.selector}[{window}])",
            "predict_linear": f"predict_linear({self.selector}[{window}], "
                              f"{format_number(self.ahead_seconds)})",
        }[self.function]

    @property
    def condition(self) -> str:
        """The PromQL expression, e.g. ``regie_memory_used_ratio > 0.9``; guards are `and`ed,
        and a prediction needs a series at least as old as its window (`and x offset w`)."""
        parts = [f"{self.expression} {self.op} {format_number(self.value)}"]
        if self.function == "predict_linear":
            parts.append(f"{self.selector} offset {format_duration(self.window_seconds)}")
        parts.extend(g.condition for g in self.guards)
        return " and ".join(parts)

    @property
    def spacing(self) -> float:
        """Least seconds between two kept samples of a windowed rule's series."""
        return self.window_seconds / MAX_POINTS

    def matches(self, sample: Sample) -> bool:
        return sample.name == self.metric and all(
            sample.labels.get(k, "") == v for k, v in self.matchers.items()
        )

    def breached_by(self, value: float) -> bool:
        return OPERATORS[self.op](value, self.value)


@dataclass(frozen=True, slots=True)
class Sample:
    """One scraped series value: name, labels (without `instance`/`job`), value."""

    name: str
    labels: Mapping[str, str]
    value: float


# --------------------------------------------------------------------------- parsing

_RULE_KEYS = ("name", "metric", "labels", "op", "value", "for", "urgency", "component",
              "summary", "description", "recovery", "host_down", "function", "window", "ahead",
              "and", "runbook_url")
_GUARD_KEYS = ("metric", "labels", "op", "value")
_REQUIRED = ("name", "metric", "op", "value", "urgency", "component", "summary")


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A whole rules file: the threshold rules and the inhibit rules between their alerts."""

    rules: tuple[Rule, ...]
    inhibit_rules: tuple[InhibitRule, ...] = ()


def parse_rule_set(data: object, *, source: str) -> RuleSet:
    """Validate a loaded rules document (``{"rules": [...], "inhibit_rules": [...]}``)."""
    rules = parse_rules(data, source=source)
    assert isinstance(data, Mapping)  # parse_rules refused anything else
    return RuleSet(rules, parse_inhibit_rules(data.get("inhibit_rules"), source=source))


def parse_rules(data: object, *, source: str) -> tuple[Rule, ...]:
    """Validate a loaded rules document (``{"rules": [...]}``) into rules, or raise ConfigError.

    Its `inhibit_rules` are read by `parse_rule_set` (alerting/inhibition.py)."""
    if data is None:
        raise ConfigError(source, "-", "is empty; expected a 'rules:' list")
    if not isinstance(data, Mapping):
        raise ConfigError(source, "-", f"must be a mapping with a 'rules' list, not {_kind(data)}")
    _refuse_unknown(data, ("rules", "inhibit_rules", "runbook_base_url"), source=source,
                    prefix="")
    base = data.get("runbook_base_url")
    if base is not None and (not isinstance(base, str) or not base.strip()):
        raise ConfigError(source, "runbook_base_url", "must be a non-empty string")
    if base is not None and not _ABSOLUTE_URL.match(base):
        # A path ("docs/runbooks", as files once shipped) is no link anyone can open: such a
        # file means Regie's bundled runbooks, which the collector serves (with_runbook_links).
        base = None
    if "rules" not in data:
        raise ConfigError(source, "rules", "is required")
    items = data["rules"]
    if not isinstance(items, list):
        raise ConfigError(source, "rules", f"must be a list, not {_kind(items)}")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        key = f"rules[{index}]"
        rule = _parse_rule(item, source=source, key=key)
        if rule.runbook_url is None and base:
            rule = replace(rule, runbook_url=f"{base.rstrip('/')}/{rule.name}.md")
        if rule.name in seen:
            raise ConfigError(source, f"{key}.name",
                              f"duplicate rule name {rule.name!r} (also rules[{seen[rule.name]}])")
        seen[rule.name] = index
        rules.append(rule)
    return tuple(rules)


def with_runbook_links(rules: Iterable[Rule], urls: Mapping[str, str]) -> tuple[Rule, ...]:
    """`rules`, each without a runbook link of its own given `urls[rule.name]` when there is
    one: the collector links its bundled runbooks this way, at its own address."""
    return tuple(replace(rule, runbook_url=urls[rule.name])
                 if rule.runbook_url is None and rule.name in urls else rule for rule in rules)


def _parse_rule(item: object, *, source: str, key: str) -> Rule:
    if not isinstance(item, Mapping):
        raise ConfigError(source, key, f"must be a mapping, not {_kind(item)}")
    _refuse_unknown(item, _RULE_KEYS, source=source, prefix=key)
    for name in _REQUIRED:
        if name not in item:
            raise ConfigError(source, f"{key}.{name}", "is required")

    def text(name: str, pattern: re.Pattern[str] | None = None, what: str = "") -> str:
        value = item[name]
        if not isinstance(value, str):
            raise ConfigError(source, f"{key}.{name}", f"must be a string, not {_kind(value)}")
        if not value.strip():
            raise ConfigError(source, f"{key}.{name}", "must not be empty")
        if pattern and not pattern.fullmatch(value):
            raise ConfigError(source, f"{key}.{name}", f"{value!r} is not {what}")
        return value

    def choice(name: str, enum: type[Urgency] | type[Recovery], default: Any = None) -> Any:
        value = item.get(name, default)
        allowed = [m.value for m in enum]
        if value not in allowed:
            raise ConfigError(source, f"{key}.{name}",
                              f"must be one of {', '.join(allowed)}, not {value!r}")
        return enum(value)

    name = text("name", _RULE_NAME, "a rule name (a letter, then letters, digits or '_')")
    metric = text("metric", _METRIC_NAME, "a metric name")
    matchers = _parse_matchers(item.get("labels", {}), source=source, key=f"{key}.labels")
    if metric == UP_METRIC and matchers:
        raise ConfigError(source, f"{key}.labels", "the embedded evaluator's 'up' has no labels "
                          "(it is 1 or 0 per host)")

    op = item["op"]
    if not isinstance(op, str) or op not in OPERATORS:
        hint = " (quote it in YAML: op: \">\")" if op in ("", None) else ""
        raise ConfigError(source, f"{key}.op",
                          f"must be one of {', '.join(OPERATORS)}, not {op!r}{hint}")

    value = item["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(source, f"{key}.value", f"must be a number, not {_kind(value)}")
    if not math.isfinite(value):
        raise ConfigError(source, f"{key}.value", f"must be a finite number, not {value!r}")

    for_value = item.get("for", "0s")
    if for_value == 0 and not isinstance(for_value, bool):
        for_value = "0s"
    if not isinstance(for_value, str):
        raise ConfigError(source, f"{key}.for",
                          f"must be a duration such as '30s', '5m' or '1h', not {_kind(for_value)}")
    try:
        for_seconds = parse_duration(for_value)
    except ValueError as exc:
        raise ConfigError(source, f"{key}.for", str(exc)) from None

    summary = text("summary")
    description = item.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(source, f"{key}.description",
                          f"must be a string, not {_kind(description)}")
    for field_name, template in (("summary", summary), ("description", description)):
        try:
            template_parts(template)
        except ValueError as exc:
            raise ConfigError(source, f"{key}.{field_name}", str(exc)) from None

    host_down = item.get("host_down", False)
    if not isinstance(host_down, bool):
        raise ConfigError(source, f"{key}.host_down",
                          f"must be true or false, not {_kind(host_down)}")

    function = item.get("function")
    if function is not None and function not in FUNCTIONS:
        raise ConfigError(source, f"{key}.function",
                          f"must be one of {', '.join(FUNCTIONS)}, not {function!r}")
    if metric == UP_METRIC and (function or item.get("and")):
        raise ConfigError(source, f"{key}.function" if function else f"{key}.and",
                          "rules on 'up' compare its value alone")
    window = _duration_key(item, "window", source=source, key=key)
    ahead = _duration_key(item, "ahead", source=source, key=key)
    if function in WINDOWED and not window:
        raise ConfigError(source, f"{key}.window", f"is required with function {function}")
    if function not in WINDOWED and "window" in item:
        raise ConfigError(source, f"{key}.window", f"only goes with {', '.join(WINDOWED)}")
    if function == "predict_linear" and not ahead:
        raise ConfigError(source, f"{key}.ahead", "is required with function predict_linear")
    if function != "predict_linear" and "ahead" in item:
        raise ConfigError(source, f"{key}.ahead", "only goes with predict_linear")
    guards = _parse_guards(item.get("and"), source=source, key=f"{key}.and")
    runbook = item.get("runbook_url")
    if runbook is not None and (not isinstance(runbook, str) or not runbook.strip()):
        raise ConfigError(source, f"{key}.runbook_url", "must be a non-empty string")

    return Rule(
        name=name, metric=metric, matchers=matchers, op=op, value=float(value),
        for_seconds=for_seconds, urgency=choice("urgency", Urgency),
        component=text("component"), summary=summary, description=description,
        recovery=choice("recovery", Recovery, Recovery.RESOLVE.value), host_down=host_down,
        function=function, window_seconds=window, ahead_seconds=ahead, guards=guards,
        runbook_url=runbook,
    )


def _duration_key(item: Mapping[str, Any], name: str, *, source: str, key: str) -> float:
    if name not in item:
        return 0.0
    value = item[name]
    if not isinstance(value, str):
        raise ConfigError(source, f"{key}.{name}",
                          f"must be a duration such as '5m' or '6h', not {_kind(value)}")
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise ConfigError(source, f"{key}.{name}", str(exc)) from None
    if seconds <= 0:
        raise ConfigError(source, f"{key}.{name}", "must be longer than 0s")
    return seconds


def _parse_guards(value: object, *, source: str, key: str) -> tuple[Guard, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(source, key, f"must be a list of conditions, not {_kind(value)}")
    guards = []
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(item, Mapping):
            raise ConfigError(source, where, f"must be a mapping, not {_kind(item)}")
        _refuse_unknown(item, _GUARD_KEYS, source=source, prefix=where)
        for required in ("metric", "op", "value"):
            if required not in item:
                raise ConfigError(source, f"{where}.{required}", "is required")
        metric = item["metric"]
        if not isinstance(metric, str) or not _METRIC_NAME.fullmatch(metric) \
                or metric == UP_METRIC:
            raise ConfigError(source, f"{where}.metric", f"{metric!r} is not a metric name")
        op = item["op"]
        if op not in OPERATORS:
            raise ConfigError(source, f"{where}.op",
                              f"must be one of {', '.join(OPERATORS)}, not {op!r}")
        number = item["value"]
        if isinstance(number, bool) or not isinstance(number, int | float) \
                or not math.isfinite(number):
            raise ConfigError(source, f"{where}.value", f"must be a finite number, not "
                              f"{_kind(number)}")
        matchers = _parse_matchers(item.get("labels", {}), source=source,
                                   key=f"{where}.labels")
        guards.append(Guard(metric, matchers, op, float(number)))
    return tuple(guards)


def _parse_matchers(value: object, *, source: str, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(source, key, f"must be a mapping of label: value, not {_kind(value)}")
    matchers: dict[str, str] = {}
    for label, wanted in value.items():
        where = f"{key}.{label}"
        if not isinstance(label, str) or not _LABEL_NAME.fullmatch(label):
            raise ConfigError(source, where, f"{label!r} is not a label name")
        if label.startswith("__"):
            raise ConfigError(source, where, "labels starting with '__' are reserved")
        if label in SCRAPE_LABELS:
            raise ConfigError(source, where, f"'{label}' exists only in Prometheus, not in the "
                              "embedded evaluator; match on the metric's own labels")
        if not isinstance(wanted, str):
            raise ConfigError(source, where, f"must be a string (quote it), not {_kind(wanted)}")
        matchers[label] = wanted
    return matchers


def _refuse_unknown(data: Mapping[Any, Any], known: Sequence[str], *, source: str,
                    prefix: str) -> None:
    for name in data:
        if name not in known:
            close = difflib.get_close_matches(str(name), list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            where = f"{prefix}.{name}" if prefix else str(name)
            raise ConfigError(source, where, f"unknown key{hint}")


def _kind(value: object) -> str:
    return {
        bool: "a boolean", int: "an integer", float: "a number", str: "a string",
        list: "a list", dict: "a mapping", type(None): "nothing",
    }.get(type(value), type(value).__name__)


# --------------------------------------------------------------------------- durations

# Prometheus's duration syntax (common/model ParseDuration): units in this order, each once.
_DURATION_UNITS: tuple[tuple[str, float], ...] = (
    ("y", 365 * 86400.0), ("w", 7 * 86400.0), ("d", 86400.0), ("h", 3600.0), ("m", 60.0),
    ("s", 1.0), ("ms", 0.001),
)
_DURATION = re.compile("".join(rf"(?:(\d+){unit})?" for unit, _ in _DURATION_UNITS))


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration: ``"0"``, ``"30s"``, ``"5m"``, ``"1h30m"``, ``"1500ms"``."""
    if text == "0":
        return 0.0
    match = _DURATION.fullmatch(text)
    if not text or not match:
        raise ValueError(f"{text!r} is not a duration such as '30s', '5m', '1h30m' or '1d'")
    return sum(int(n) * size for n, (_, size) in zip(match.groups(), _DURATION_UNITS, strict=True)
               if n is not None)


def format_duration(seconds: float) -> str:
    """The Prometheus duration for `seconds`: 300 -> ``5m``, 5400 -> ``1h30m``, 0 -> ``0s``."""
    remaining = round(seconds * 1000)
    if remaining <= 0:
        return "0s"
    out = []
    for unit, size in _DURATION_UNITS:
        count, remaining = divmod(remaining, round(size * 1000))
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def format_number(value: float) -> str:
    """A threshold as PromQL and people write it: 5.0 -> ``5``, 0.9 -> ``0.9``."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _promql_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# --------------------------------------------------------------------------- evaluation

LabelKey = tuple[tuple[str, str], ...]
AlertKey = tuple[str, str, LabelKey]          # rule name, host, series labels


@dataclass(frozen=True, slots=True)
class AlertState:
    """A breaching series: pending until `firing`, with the value of the latest evaluation."""

    active_since: datetime
    firing: bool
    value: float


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The evaluator's memory between rounds. `step()` returns signals and the next state."""

    rules: tuple[Rule, ...]
    alerts: Mapping[AlertKey, AlertState] = field(default_factory=dict)
    # The samples windowed rules read; shared by successive evaluations (None: a new one).
    history: History | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.history is None:
            object.__setattr__(self, "history", new_history(self.rules))

    @property
    def firing(self) -> list[AlertKey]:
        return sorted(key for key, state in self.alerts.items() if state.firing)

    @property
    def pending(self) -> list[AlertKey]:
        return sorted(key for key, state in self.alerts.items() if not state.firing)

    def step(self, samples_by_host: Mapping[str, Sequence[Sample]], *, now: datetime,
             up: Mapping[str, bool]) -> tuple[list[Signal], Evaluation]:
        """Evaluate every rule for every host seen in `samples_by_host` or `up` at `now`.

        `up[host]` False means the scrape failed: only rules on `up` run for that host, all
        its other states stay as they are. A host missing from `up` counts as up.
        """
        by_rule_host: dict[tuple[str, str], list[AlertKey]] = {}
        for key in self.alerts:
            by_rule_host.setdefault(key[:2], []).append(key)
        alerts = dict(self.alerts)
        signals: list[Signal] = []
        history = self.history
        assert history is not None
        at = now.timestamp()
        remembered = history.metrics
        for host in sorted(set(samples_by_host) | set(up)):
            host_up = up.get(host, True)
            scraped = samples_by_host.get(host, ()) if host_up else ()
            by_name: dict[str, list[Sample]] = {}
            for sample in scraped:
                by_name.setdefault(sample.name, []).append(sample)
                if sample.name in remembered:
                    history.add(sample.name, (host, _label_key(sample.labels)), at,
                                sample.value)
            # The scrape's own verdict, never a scraped series of that name.
            by_name[UP_METRIC] = [Sample(UP_METRIC, {}, 1.0 if host_up else 0.0)]
            for rule in self.rules:
                if not host_up and rule.metric != UP_METRIC:
                    continue
                breaching = _breaching(rule, host, by_name, at, history)
                for labels, value in breaching.items():
                    key = (rule.name, host, labels)
                    old = alerts.get(key)
                    state = (AlertState(active_since=now, firing=False, value=value)
                             if old is None else replace(old, value=value))
                    if not state.firing and now - state.active_since >= timedelta(
                            seconds=rule.for_seconds):
                        state = replace(state, firing=True)
                        signals.append(_signal(rule, host, labels, state, Action.TRIGGER, now))
                    alerts[key] = state
                for key in by_rule_host.get((rule.name, host), ()):
                    if key[2] not in breaching:
                        gone = alerts.pop(key)
                        if gone.firing:
                            signals.append(_signal(rule, host, key[2], gone, Action.RESOLVE, now))
        history.prune(at)
        return signals, replace(self, alerts=MappingProxyType(alerts))


def new_history(rules: Iterable[Rule]) -> History:
    """A History keeping what `rules`' windows need: each window, plus the lookback a
    prediction's "was the series there a window ago" asks for."""
    keep: dict[tuple[str, float], float] = {}
    for rule in rules:
        if rule.function in WINDOWED:
            extra = LOOKBACK_SECONDS if rule.function == "predict_linear" else 0.0
            slot = (rule.metric, rule.spacing)
            keep[slot] = max(keep.get(slot, 0.0), rule.window_seconds + extra)
    return History(keep)


def compared_value(rule: Rule, sample: Sample, key: LabelKey, host: str, at: float,
                   history: History) -> float | None:
    """What `rule` compares with its threshold for `sample` at `at` (None: no value, as
    PromQL returns no sample, e.g. a rate over fewer than two points)."""
    function = rule.function
    if function is None:
        return sample.value
    if function == "abs":
        return abs(sample.value)
    if function == "time_since":
        return at - sample.value
    if function == "time_until":
        return sample.value - at
    series = history.series(rule.metric, rule.spacing, (host, key))
    if series is None:
        return None
    start = at - rule.window_seconds
    times, values = series.window(start, at)
    if function == "predict_linear":
        # Only a series as old as the window is extrapolated: a fresh filesystem filled once
        # at creation is not "filling up" (PromQL: `and x offset <window>`).
        if not series.present_at(start):
            return None
        return _predict_linear(times, values, at=at, ahead=rule.ahead_seconds)
    return _extrapolated_rate(times, values, start=start, end=at,
                              is_rate=function == "rate")


def _breaching(rule: Rule, host: str, by_name: Mapping[str, Sequence[Sample]], at: float,
               history: History) -> dict[LabelKey, float]:
    out: dict[LabelKey, float] = {}
    for sample in by_name.get(rule.metric, ()):
        if not rule.matches(sample):
            continue
        key = _label_key(sample.labels)
        value = compared_value(rule, sample, key, host, at, history)
        if value is None or not rule.breached_by(value):
            continue
        if all(any(_label_key(g.labels) == key and guard.holds(g.labels, g.value)
                   for g in by_name.get(guard.metric, ())) for guard in rule.guards):
            out[key] = value
    return out


def _label_key(labels: Mapping[str, str]) -> LabelKey:
    return tuple(sorted(labels.items()))


def resumed(rules: Sequence[Rule], tickets: Iterable[tuple[str, str | None, Mapping[str, Any]]]
            ) -> Evaluation:
    """The evaluation to continue from after a restart (or on taking over from another
    collector): every alert whose ticket is still active, as firing.

    `tickets` are (dedup_key, host, details) of the active tickets the evaluator opened. An
    alert whose condition ended meanwhile then resolves at the first step, instead of its
    ticket staying open forever. Tickets of rules no longer in the file, or whose key does not
    come out the same, are left alone. Pending alerts are not kept anywhere: their `for`
    starts again, as Prometheus's does after a restart."""
    by_name = {rule.name: rule for rule in rules}
    alerts: dict[AlertKey, AlertState] = {}
    for key, host, details in tickets:
        rule = by_name.get(str(details.get("rule", "")))
        labels = details.get("labels")
        if rule is None or not host or not isinstance(labels, Mapping):
            continue
        label_key = _label_key({str(k): str(v) for k, v in labels.items()})
        if dedup_key(rule, host, label_key) != key:
            continue
        try:
            since = datetime.fromisoformat(str(details.get("active_since")))
            value = float(details.get("value", math.nan))
        except (TypeError, ValueError):
            continue
        alerts[(rule.name, host, label_key)] = AlertState(active_since=since, firing=True,
                                                          value=value)
    return Evaluation(tuple(rules), MappingProxyType(alerts))


def dedup_key(rule: Rule, host: str, labels: Iterable[tuple[str, str]]) -> str:
    """``evaluator:<rule>:<host>[:<label>=<value>,...]``, the series' labels sorted, e.g.
    ``evaluator:FilesystemFilling:web1:device=/dev/sda1,fstype=ext4,mountpoint=/``.

    Stable across rounds and restarts (nothing in it changes while the problem lasts) and
    readable in a ticket list. A metric without labels gives ``evaluator:<rule>:<host>``.
    """
    key = f"{ORIGIN}:{rule.name}:{host}"
    pairs = ",".join(f"{k}={v}" for k, v in sorted(labels))
    return f"{key}:{pairs}" if pairs else key


def _signal(rule: Rule, host: str, labels: LabelKey, state: AlertState, action: Action,
            now: datetime) -> Signal:
    label_map = dict(labels)
    return Signal(
        dedup_key=dedup_key(rule, host, labels),
        action=action,
        origin=ORIGIN,
        summary=render(rule.summary, host=host, value=state.value, labels=label_map),
        occurred_at=now,
        host=host,
        component=rule.component,
        urgency=rule.urgency,
        recovery=rule.recovery,
        host_down=rule.host_down,
        details={
            "rule": rule.name,
            # Where the notification and the ticket find it, as for Alertmanager's alerts.
            **({"annotations": {"runbook_url": rule.runbook_url}} if rule.runbook_url else {}),
            "condition": f"{rule.condition} for {format_duration(rule.for_seconds)}",
            "metric": rule.metric,
            "labels": label_map,
            # NaN and infinities are not JSON (PostgreSQL's jsonb refuses them): as text.
            "value": state.value if math.isfinite(state.value) else go_float(state.value),
            "active_since": state.active_since.isoformat(),
            "description": render(rule.description, host=host, value=state.value,
                                  labels=label_map),
        },
    )
