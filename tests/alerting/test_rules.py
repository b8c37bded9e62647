"""Threshold rules: every parse error names its key; evaluation with `for` on an injected clock."""

from __future__ import annotations

import copy
import dataclasses
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alerting.rule_templates import (
    go_float,
    humanize,
    humanize1024,
    humanize_duration,
    humanize_percentage,
    render,
)
from alerting.rules import (
    Evaluation,
    Rule,
    Sample,
    dedup_key,
    format_duration,
    parse_duration,
    parse_rules,
)
from alerting.ticket import Action, Recovery, Urgency
from regie.configfile import ConfigError

SOURCE = "/etc/regie/rules.yml"


def valid_rule(**overrides: Any) -> dict[str, Any]:
    rule = {
        "name": "FilesystemFilling",
        "metric": "regie_filesystem_used_ratio",
        "labels": {"fstype": "ext4"},
        "op": ">",
        "value": 0.9,
        "for": "10m",
        "urgency": "medium",
        "component": "filesystem",
        "summary": "{{ labels.mountpoint }} on {{ host }} is {{ value | humanizePercentage }} full",
    }
    rule.update(overrides)
    return rule


def without(key: str) -> dict[str, Any]:
    rule = valid_rule()
    del rule[key]
    return rule


# --------------------------------------------------------------------------- parsing

def test_a_valid_rule_parses_into_a_frozen_rule():
    (rule,) = parse_rules({"rules": [valid_rule(description="d", recovery="confirm")]},
                          source=SOURCE)
    assert rule == Rule(
        name="FilesystemFilling", metric="regie_filesystem_used_ratio",
        matchers={"fstype": "ext4"}, op=">", value=0.9, for_seconds=600.0,
        urgency=Urgency.MEDIUM, component="filesystem",
        summary="{{ labels.mountpoint }} on {{ host }} is {{ value | humanizePercentage }} full",
        description="d", recovery=Recovery.CONFIRM, host_down=False,
    )
    with pytest.raises(AttributeError):
        rule.value = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        rule.matchers["fstype"] = "xfs"  # type: ignore[index]


def test_optional_fields_default():
    rule = valid_rule()
    del rule["for"], rule["labels"]
    (parsed,) = parse_rules({"rules": [rule]}, source=SOURCE)
    assert (parsed.for_seconds, dict(parsed.matchers), parsed.description, parsed.recovery,
            parsed.host_down) == (0.0, {}, "", Recovery.RESOLVE, False)


def test_an_empty_rules_list_is_valid():
    assert parse_rules({"rules": []}, source=SOURCE) == ()


@pytest.mark.parametrize(
    ("data", "key", "reason"),
    [
        (None, "-", "is empty"),
        ([valid_rule()], "-", "must be a mapping with a 'rules' list, not a list"),
        ({"rule": []}, "rule", "unknown key (did you mean 'rules'?)"),
        ({}, "rules", "is required"),
        ({"rules": {"a": 1}}, "rules", "must be a list, not a mapping"),
        ({"rules": ["x"]}, "rules[0]", "must be a mapping, not a string"),
        ({"rules": [valid_rule(threshold=1)]}, "rules[0].threshold", "unknown key"),
        ({"rules": [valid_rule(urgncy="high")]}, "rules[0].urgncy",
         "unknown key (did you mean 'urgency'?)"),
        ({"rules": [without("name")]}, "rules[0].name", "is required"),
        ({"rules": [without("op")]}, "rules[0].op", "is required"),
        ({"rules": [without("summary")]}, "rules[0].summary", "is required"),
        ({"rules": [valid_rule(name="disk full")]}, "rules[0].name", "is not a rule name"),
        ({"rules": [valid_rule(name=7)]}, "rules[0].name", "must be a string, not an integer"),
        ({"rules": [valid_rule(metric="")]}, "rules[0].metric", "must not be empty"),
        ({"rules": [valid_rule(metric="cpu-busy")]}, "rules[0].metric", "is not a metric name"),
        ({"rules": [valid_rule(labels=["mountpoint"])]}, "rules[0].labels",
         "must be a mapping of label: value"),
        ({"rules": [valid_rule(labels={"cpu": 0})]}, "rules[0].labels.cpu",
         "must be a string (quote it), not an integer"),
        ({"rules": [valid_rule(labels={"mount-point": "/"})]}, "rules[0].labels.mount-point",
         "is not a label name"),
        ({"rules": [valid_rule(labels={"__name__": "x"})]}, "rules[0].labels.__name__",
         "reserved"),
        ({"rules": [valid_rule(labels={"instance": "web1:9847"})]}, "rules[0].labels.instance",
         "exists only in Prometheus"),
        ({"rules": [valid_rule(metric="up")]}, "rules[0].labels", "'up' has no labels"),
        ({"rules": [valid_rule(op="=")]}, "rules[0].op",
         "must be one of >, >=, <, <=, ==, !=, not '='"),
        ({"rules": [valid_rule(op="")]}, "rules[0].op", "quote it in YAML"),
        ({"rules": [valid_rule(op=["x"])]}, "rules[0].op", "must be one of"),
        ({"rules": [valid_rule(value="0.9")]}, "rules[0].value", "must be a number, not a string"),
        ({"rules": [valid_rule(value=True)]}, "rules[0].value", "must be a number, not a boolean"),
        ({"rules": [valid_rule(value=math.nan)]}, "rules[0].value", "must be a finite number"),
        ({"rules": [valid_rule(**{"for": "5 minutes"})]}, "rules[0].for", "is not a duration"),
        ({"rules": [valid_rule(**{"for": "5m30"})]}, "rules[0].for", "is not a duration"),
        ({"rules": [valid_rule(**{"for": "30s5m"})]}, "rules[0].for", "is not a duration"),
        ({"rules": [valid_rule(**{"for": ""})]}, "rules[0].for", "is not a duration"),
        ({"rules": [valid_rule(**{"for": 300})]}, "rules[0].for",
         "must be a duration such as '30s', '5m' or '1h', not an integer"),
        ({"rules": [valid_rule(urgency="critical")]}, "rules[0].urgency",
         "must be one of high, medium, low, not 'critical'"),
        ({"rules": [valid_rule(recovery="auto")]}, "rules[0].recovery",
         "must be one of resolve, confirm, not 'auto'"),
        ({"rules": [valid_rule(component="")]}, "rules[0].component", "must not be empty"),
        ({"rules": [valid_rule(summary="{{ hostname }} full")]}, "rules[0].summary",
         "unknown field {{ hostname }} (did you mean 'host'?)"),
        ({"rules": [valid_rule(summary="{{ $labels.instance }}")]}, "rules[0].summary",
         "unknown field"),
        ({"rules": [valid_rule(summary="{{ labels.instance }}")]}, "rules[0].summary",
         "use {{ host }}"),
        ({"rules": [valid_rule(summary="{{ value | upper }}")]}, "rules[0].summary",
         "unknown function 'upper'"),
        ({"rules": [valid_rule(summary="{{ host | humanize }}")]}, "rules[0].summary",
         "functions apply to value only"),
        ({"rules": [valid_rule(summary="{{ host }} is {{ value")]}, "rules[0].summary",
         "'{{' without a closing '}}'"),
        ({"rules": [valid_rule(description=5)]}, "rules[0].description",
         "must be a string, not an integer"),
        ({"rules": [valid_rule(description="{{ nope }}")]}, "rules[0].description",
         "unknown field"),
        ({"rules": [valid_rule(host_down="yes")]}, "rules[0].host_down",
         "must be true or false, not a string"),
        ({"rules": [valid_rule(), valid_rule(name="B"), valid_rule()]}, "rules[2].name",
         "duplicate rule name 'FilesystemFilling' (also rules[0])"),
    ],
)
def test_parse_errors_name_file_and_key(data, key, reason):
    with pytest.raises(ConfigError) as caught:
        parse_rules(copy.deepcopy(data), source=SOURCE)
    assert (caught.value.source, caught.value.key) == (SOURCE, key)
    assert reason in caught.value.reason
    # A problem with the whole file names no key (regie/configfile.py).
    where = SOURCE if key == "-" else f"{SOURCE}: {key}"
    assert str(caught.value).startswith(f"{where}: ")


@pytest.mark.parametrize(
    ("text", "seconds", "canonical"),
    [("0", 0, "0s"), ("0s", 0, "0s"), ("30s", 30, "30s"), ("5m", 300, "5m"),
     ("1h30m", 5400, "1h30m"), ("90m", 5400, "1h30m"), ("1d", 86400, "1d"),
     ("2w", 14 * 86400, "2w"), ("1y", 365 * 86400, "1y"), ("1500ms", 1.5, "1s500ms"),
     ("1h0m5s", 3605, "1h5s")],
)
def test_durations_follow_prometheus(text, seconds, canonical):
    assert parse_duration(text) == seconds
    assert format_duration(seconds) == canonical
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "5M", "1.5h", "-5m", "5m1h", " 5m", "5 m"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_selector_and_condition_are_promql():
    rule = Rule(name="R", metric="m", matchers={"z": 'a"b\\c', "a": "/"}, op="<=", value=5.0,
                for_seconds=0, urgency=Urgency.LOW, component="c", summary="s")
    assert rule.selector == 'm{a="/",z="a\\"b\\\\c"}'
    assert rule.condition == 'm{a="/",z="a\\"b\\\\c"} <= 5'


def test_a_rule_refuses_an_unknown_operator_when_built_directly():
    with pytest.raises(ValueError, match="op must be one of"):
        Rule(name="R", metric="m", matchers={}, op="=~", value=1, for_seconds=0,
             urgency=Urgency.LOW, component="c", summary="s")


# --------------------------------------------------------------------------- templates

@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ host }}: {{ labels.mountpoint }} at {{ value }}", "web1: / at 0.9534"),
        ("{{host}}|{{  value  }}|{{labels.mountpoint}}", "web1|0.9534|/"),
        ("[{{ labels.missing }}]", "[]"),
        ("{{ value | humanizePercentage }}", "95.34%"),
        ("{{ value | humanize }}", "953.4m"),
        ("no placeholders, } and }} are literal", "no placeholders, } and }} are literal"),
    ],
)
def test_render(template, expected):
    assert render(template, host="web1", value=0.9534, labels={"mountpoint": "/"}) == expected


# The same numbers Prometheus 2.42 printed for these values (promtool test rules; the
# export tests check the whole path against promtool itself).
@pytest.mark.parametrize(
    ("value", "plain", "human", "human1024", "percent"),
    [
        (1234567.0, "1.234567e+06", "1.235M", "1.177Mi", "1.235e+08%"),
        (100000000.0, "1e+08", "100M", "95.37Mi", "1e+10%"),
        (0.00001234, "1.234e-05", "12.34u", "1.234e-05", "0.001234%"),
        (1e21, "1e+21", "1Z", "867.4Ei", "1e+23%"),
        (0.9534, "0.9534", "953.4m", "0.9534", "95.34%"),
        (123456.0, "123456", "123.5k", "120.6ki", "1.235e+07%"),
        (5.0, "5", "5", "5", "500%"),
        (0.0, "0", "0", "0", "0%"),
        (-2048.0, "-2048", "-2.048k", "-2ki", "-2.048e+05%"),
        (math.inf, "+Inf", "+Inf", "+Inf", "+Inf%"),
        (math.nan, "NaN", "NaN", "NaN", "NaN%"),
    ],
)
def test_numbers_are_formatted_as_go_formats_them(value, plain, human, human1024, percent):
    assert (go_float(value), humanize(value), humanize1024(value),
            humanize_percentage(value)) == (plain, human, human1024, percent)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0, "0s"), (0.5, "500ms"), (42.0, "42s"), (899.99, "14m 59s"), (3725.0, "1h 2m 5s"),
     (90061.0, "1d 1h 1m 1s"), (-61.0, "-1m 1s")],
)
def test_humanize_duration(value, expected):
    assert humanize_duration(value) == expected


# --------------------------------------------------------------------------- evaluation

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def make_rule(**overrides: Any) -> Rule:
    fields: dict[str, Any] = {
        "name": "MemoryUsedHigh", "metric": "regie_memory_used_ratio", "matchers": {},
        "op": ">", "value": 0.9, "for_seconds": 300.0, "urgency": Urgency.MEDIUM,
        "component": "memory", "summary": "Memory on {{ host }} is {{ value }}",
    }
    fields.update(overrides)
    return Rule(**fields)


AGENT_DOWN = make_rule(name="RegieAgentDown", metric="up", op="==", value=0.0,
                       for_seconds=120.0, urgency=Urgency.HIGH, component="host",
                       summary="{{ host }} is down", host_down=True)


def memory(value: float) -> list[Sample]:
    return [Sample("regie_memory_used_ratio", {}, value)]


def run(evaluation: Evaluation, steps: list[tuple[float, dict[str, list[Sample]],
                                                   dict[str, bool]]]):
    """Step through (minute, samples_by_host, up); return {minute: signals} and the state."""
    out = {}
    for minute, samples, up in steps:
        signals, evaluation = evaluation.step(samples, now=at(minute), up=up)
        if signals:
            out[minute] = signals
    return out, evaluation


def actions(out) -> dict[float, list[str]]:
    return {minute: [s.action.value for s in signals] for minute, signals in out.items()}


@pytest.mark.parametrize(
    ("for_seconds", "values", "expected"),
    [
        # breach from minute 1, pending for 5m, fires at minute 6, quiet while firing, resolves
        (300, [0.5, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.99, 0.5],
         {6: ["trigger"], 8: ["resolve"]}),
        # pending that stops before `for` just disappears; a new breach starts the wait again
        (300, [0.95, 0.95, 0.95, 0.5, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95], {9: ["trigger"]}),
        (300, [0.95, 0.95, 0.95, 0.95, 0.5, 0.95], {}),
        # for 0s: fires at the first breach
        (0, [0.5, 0.95, 0.5, 0.95], {1: ["trigger"], 2: ["resolve"], 3: ["trigger"]}),
        # exactly at the threshold is no breach for '>'
        (0, [0.9, 0.9], {}),
        # a series that disappears (the scrape worked) resolves its firing alert
        (60, [0.95, 0.95, None, None], {1: ["trigger"], 2: ["resolve"]}),
    ],
)
def test_for_semantics(for_seconds, values, expected):
    evaluation = Evaluation((make_rule(for_seconds=for_seconds),))
    steps = [(m, {"web1": memory(v) if v is not None else []}, {"web1": True})
             for m, v in enumerate(values)]
    out, _ = run(evaluation, steps)
    assert actions(out) == expected


def test_trigger_and_resolve_signals_carry_the_rule():
    rule = make_rule(for_seconds=60, recovery=Recovery.CONFIRM, description="at {{ value }}")
    out, state = run(Evaluation((rule,)), [
        (0, {"web1": memory(0.95)}, {}),
        (1, {"web1": memory(0.97)}, {}),
        (2, {"web1": memory(0.2)}, {}),
    ])
    (trigger,), (resolve,) = out[1], out[2]
    assert trigger.action == Action.TRIGGER
    assert (trigger.dedup_key, trigger.origin, trigger.host, trigger.component, trigger.urgency,
            trigger.recovery, trigger.host_down, trigger.occurred_at) == (
        "evaluator:MemoryUsedHigh:web1", "evaluator", "web1", "memory", Urgency.MEDIUM,
        Recovery.CONFIRM, False, at(1))
    assert trigger.summary == "Memory on web1 is 0.97"
    assert trigger.details == {
        "rule": "MemoryUsedHigh", "condition": "regie_memory_used_ratio > 0.9 for 1m",
        "metric": "regie_memory_used_ratio", "labels": {}, "value": 0.97,
        "active_since": at(0).isoformat(), "description": "at 0.97",
    }
    assert resolve.action == Action.RESOLVE
    assert resolve.dedup_key == trigger.dedup_key
    assert resolve.occurred_at == at(2)
    assert state.alerts == {}


def filesystems(used: dict[str, float], fstype: str = "ext4") -> list[Sample]:
    return [Sample("regie_filesystem_used_ratio",
                   {"device": f"/dev/{i}", "fstype": fstype, "mountpoint": m}, v)
            for i, (m, v) in enumerate(used.items())] + [
        Sample("regie_filesystem_size_bytes", {"device": "/dev/0", "fstype": fstype,
                                               "mountpoint": "/"}, 1e12)]


def test_each_series_is_its_own_alert_with_its_own_dedup_key():
    rule = make_rule(name="FilesystemFilling", metric="regie_filesystem_used_ratio",
                     for_seconds=0, summary="{{ labels.mountpoint }} on {{ host }}")
    out, state = run(Evaluation((rule,)), [
        (0, {"web1": filesystems({"/": 0.95, "/var": 0.99, "/home": 0.5})}, {}),
        (1, {"web1": filesystems({"/": 0.95, "/var": 0.5, "/home": 0.5})}, {}),
    ])
    assert sorted((s.dedup_key, s.summary) for s in out[0]) == [
        ("evaluator:FilesystemFilling:web1:device=/dev/0,fstype=ext4,mountpoint=/", "/ on web1"),
        ("evaluator:FilesystemFilling:web1:device=/dev/1,fstype=ext4,mountpoint=/var",
         "/var on web1"),
    ]
    assert [(s.action, s.details["labels"]["mountpoint"]) for s in out[1]] == [
        (Action.RESOLVE, "/var")]
    assert len(state.firing) == 1


def test_matchers_select_series():
    rule = make_rule(name="RootFull", metric="regie_filesystem_used_ratio",
                     matchers={"mountpoint": "/", "fstype": "ext4"}, for_seconds=0)
    (signal,), _ = Evaluation((rule,)).step(
        {"web1": filesystems({"/": 0.95, "/var": 0.99}),
         "web2": filesystems({"/": 0.95}, fstype="xfs")},
        now=T0, up={})
    assert signal.dedup_key == "evaluator:RootFull:web1:device=/dev/0,fstype=ext4,mountpoint=/"
    assert signal.host == "web1"


def test_an_empty_matcher_means_the_label_is_absent():
    rule = make_rule(metric="m", matchers={"mode": ""}, for_seconds=0, value=0)
    signals, _ = Evaluation((rule,)).step(
        {"h": [Sample("m", {"mode": "idle"}, 1), Sample("m", {}, 1)]}, now=T0, up={})
    assert [s.dedup_key for s in signals] == ["evaluator:MemoryUsedHigh:h"]
    assert rule.matches(Sample("m", {"mode": ""}, 1))


@pytest.mark.parametrize(
    ("op", "threshold", "value", "breached"),
    [(">", 1, 2, True), (">", 1, 1, False), (">=", 1, 1, True), ("<", 1, 0, True),
     ("<", 1, 1, False), ("<=", 1, 1, True), ("==", 0, 0, True), ("==", 0, 1, False),
     ("!=", 0, 1, True), ("!=", 0, 0, False), (">", 0, math.nan, False)],
)
def test_operators(op, threshold, value, breached):
    rule = make_rule(op=op, value=float(threshold), for_seconds=0)
    signals, _ = Evaluation((rule,)).step({"h": memory(value)}, now=T0, up={})
    assert bool(signals) is breached


def test_hosts_are_independent():
    rule = make_rule(for_seconds=60)
    out, _ = run(Evaluation((rule,)), [
        (0, {"web1": memory(0.95), "web2": memory(0.5)}, {}),
        (1, {"web1": memory(0.95), "web2": memory(0.95)}, {}),
        (2, {"web1": memory(0.95), "web2": memory(0.95)}, {}),
    ])
    assert {m: [(s.host, s.action.value) for s in sig] for m, sig in out.items()} == {
        1: [("web1", "trigger")], 2: [("web2", "trigger")]}


def test_a_failed_scrape_keeps_states_and_raises_agent_down_after_its_for():
    rules = (make_rule(for_seconds=60), make_rule(name="Pending", for_seconds=600), AGENT_DOWN)
    evaluation = Evaluation(rules)
    out, evaluation = run(evaluation, [
        (0, {"web1": memory(0.95)}, {"web1": True}),
        (1, {"web1": memory(0.95)}, {"web1": True}),          # MemoryUsedHigh fires
    ])
    assert actions(out) == {1: ["trigger"]}
    before = dict(evaluation.alerts)

    # The agent stops answering: nothing resolves; the host-down rule waits its 2 minutes.
    out, evaluation = run(evaluation, [
        (2, {}, {"web1": False}),
        (3, {}, {"web1": False}),
        (4, {}, {"web1": False}),
        (5, {}, {"web1": False}),
    ])
    assert list(out) == [4]
    (down,) = out[4]
    assert (down.action, down.dedup_key, down.host_down, down.urgency, down.component,
            down.summary, down.details["active_since"]) == (
        Action.TRIGGER, "evaluator:RegieAgentDown:web1", True, Urgency.HIGH, "host",
        "web1 is down", at(2).isoformat())
    assert {k: v for k, v in evaluation.alerts.items() if k[0] != "RegieAgentDown"} == before

    # It answers again, still breaching: only the host-down alert resolves.
    out, evaluation = run(evaluation, [(6, {"web1": memory(0.95)}, {"web1": True})])
    assert [(s.action, s.details["rule"]) for s in out[6]] == [
        (Action.RESOLVE, "RegieAgentDown")]
    # The pending rule kept its start through the outage: 600 s after minute 0, it fires.
    out, evaluation = run(evaluation, [(10, {"web1": memory(0.95)}, {"web1": True})])
    assert [(s.action, s.details["rule"]) for s in out[10]] == [(Action.TRIGGER, "Pending")]
    assert sorted(k[0] for k in evaluation.firing) == ["MemoryUsedHigh", "Pending"]


def test_a_short_outage_raises_nothing():
    out, evaluation = run(Evaluation((AGENT_DOWN,)), [
        (0, {}, {"web1": False}), (1, {}, {"web1": False}), (1.5, {}, {"web1": True})])
    assert out == {}
    assert evaluation.alerts == {}


def test_a_host_missing_from_up_counts_as_up_and_scraped_up_series_are_ignored():
    rule = dataclasses.replace(AGENT_DOWN, for_seconds=0.0)
    signals, _ = Evaluation((rule,)).step({"web1": [Sample("up", {}, 0.0)]}, now=T0, up={})
    assert signals == []


def test_step_leaves_the_old_state_alone():
    evaluation = Evaluation((make_rule(for_seconds=0),))
    signals, after = evaluation.step({"h": memory(0.95)}, now=T0, up={})
    assert signals and after.alerts and evaluation.alerts == {}
    with pytest.raises(TypeError):
        after.alerts[("x", "y", ())] = None  # type: ignore[index]


def test_dedup_key_sorts_labels():
    rule = make_rule(matchers={"fstype": "ext4"})
    labels = (("mountpoint", "/"), ("fstype", "ext4"), ("device", "/dev/sda1"))
    assert dedup_key(rule, "web1", labels) == (
        "evaluator:MemoryUsedHigh:web1:device=/dev/sda1,fstype=ext4,mountpoint=/")
    assert dedup_key(rule, "web1", ()) == "evaluator:MemoryUsedHigh:web1"


def test_details_stay_json_for_values_that_are_not_numbers_in_json():
    import json

    rule = make_rule(op="!=", value=1.0, for_seconds=0)
    signals, _ = Evaluation((rule,)).step({"h": memory(math.nan)}, now=T0, up={})
    assert json.loads(json.dumps(signals[0].details, allow_nan=False))["value"] == "NaN"
