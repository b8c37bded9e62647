"""The inhibition model (alerting/inhibition.py): Alertmanager's matchers and inhibit rules."""

from __future__ import annotations

import pytest

from alerting.inhibition import (
    InhibitRule,
    Matcher,
    alert_labels,
    inhibited_by,
    parse_inhibit_rules,
    parse_matcher,
)
from regie.configfile import ConfigError


@pytest.mark.parametrize(("text", "expected"), [
    ('alertname="FilesystemFilling"', Matcher("alertname", "=", "FilesystemFilling")),
    ('severity!="info"', Matcher("severity", "!=", "info")),
    ('mountpoint=~"/var/.*"', Matcher("mountpoint", "=~", "/var/.*")),
    ('job!~"node|regie"', Matcher("job", "!~", "node|regie")),
    ("alertname=Foo", Matcher("alertname", "=", "Foo")),              # unquoted, as Alertmanager
    (' host = "a b" ', Matcher("host", "=", "a b")),
    ('unit="odd\\"unit\\\\x"', Matcher("unit", "=", 'odd"unit\\x')),
    ('empty=""', Matcher("empty", "=", "")),
])
def test_matchers_parse(text, expected):
    assert parse_matcher(text) == expected


@pytest.mark.parametrize("matcher", [
    Matcher("alertname", "=", "FilesystemFilling"), Matcher("unit", "!=", 'odd"unit\\x\n'),
    Matcher("mountpoint", "=~", "/var/.*"), Matcher("x", "!~", ""),
])
def test_matchers_print_as_they_parse(matcher):
    assert parse_matcher(str(matcher)) == matcher


@pytest.mark.parametrize(("text", "reason"), [
    ("alertname", "is not a matcher"),
    ('1abc="x"', "is not a matcher"),
    ('a=="x"', "quote the value"),
    ('a="x', "no closing quote"),
    ('a="x"y', "text after the closing quote"),
    ('a="\\t"', "unknown escape"),
    ('a=~"("', "not a regular expression"),
])
def test_bad_matchers_say_why(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_matcher(text)


@pytest.mark.parametrize(("matcher", "labels", "matches"), [
    (Matcher("a", "=", "x"), {"a": "x"}, True),
    (Matcher("a", "=", "x"), {"a": "xy"}, False),
    (Matcher("a", "=", ""), {}, True),                      # missing is empty, as Alertmanager
    (Matcher("a", "!=", "x"), {}, True),
    (Matcher("a", "=~", "x|y"), {"a": "y"}, True),
    (Matcher("a", "=~", "x"), {"a": "xx"}, False),          # anchored at both ends
    (Matcher("a", "!~", "x.*"), {"a": "yx"}, True),
    (Matcher("a", "!~", "x.*"), {"a": "xy"}, False),
])
def test_matching(matcher, labels, matches):
    assert matcher.matches(labels) is matches


TIERS = InhibitRule(source_matchers=(Matcher("alertname", "=", "FilesystemAlmostFull"),),
                    target_matchers=(Matcher("alertname", "=", "FilesystemFilling"),),
                    equal=("host", "mountpoint"))
FULL = {"alertname": "FilesystemAlmostFull", "host": "web-01", "mountpoint": "/var"}
FILLING = {"alertname": "FilesystemFilling", "host": "web-01", "mountpoint": "/var"}


@pytest.mark.parametrize(("source", "target", "inhibits"), [
    (FULL, FILLING, True),
    (FILLING, FULL, False),                                   # the other way round: no
    (FULL, {**FILLING, "mountpoint": "/"}, False),            # another mount
    (FULL, {**FILLING, "host": "web-02"}, False),             # another host
    (FULL, {**FILLING, "device": "/dev/sdb"}, True),          # a label not in `equal`
    ({**FULL, "mountpoint": ""}, {k: v for k, v in FILLING.items() if k != "mountpoint"},
     True),                                                   # empty equals missing
    (FULL, FULL, False),
])
def test_inhibits(source, target, inhibits):
    assert TIERS.inhibits(source, target) is inhibits
    assert inhibited_by([TIERS], source, target) is inhibits


def test_no_rules_inhibit_nothing():
    assert inhibited_by([], FULL, FILLING) is False


def test_alert_labels_of_both_paths_agree():
    evaluator = alert_labels(details={"rule": "FilesystemFilling",
                                      "labels": {"mountpoint": "/var", "device": "/dev/sda2"}},
                             host="web-01", component="filesystem")
    alertmanager = alert_labels(details={"labels": {
        "alertname": "FilesystemFilling", "mountpoint": "/var", "device": "/dev/sda2",
        "host": "127.0.0.1", "instance": "127.0.0.1:9847", "component": "filesystem"}},
        host="web-01", component="filesystem")
    assert evaluator == {"alertname": "FilesystemFilling", "mountpoint": "/var",
                         "device": "/dev/sda2", "component": "filesystem", "host": "web-01"}
    # The canonical host wins over the label as delivered; the rest is Alertmanager's own.
    assert alertmanager == {**evaluator, "instance": "127.0.0.1:9847"}
    assert "host" not in alert_labels(details={"labels": {"host": "x"}}, host=None,
                                      component=None)


def test_rules_parse_from_the_file_format():
    (rule,) = parse_inhibit_rules([{
        "source_matchers": ['alertname="FilesystemAlmostFull"'],
        "target_matchers": ['alertname="FilesystemFilling"', 'severity!="info"'],
        "equal": ["host", "mountpoint", "host"]}], source="r.yml")
    assert rule == InhibitRule((Matcher("alertname", "=", "FilesystemAlmostFull"),),
                               (Matcher("alertname", "=", "FilesystemFilling"),
                                Matcher("severity", "!=", "info")), ("host", "mountpoint"))
    assert parse_inhibit_rules(None, source="r.yml") == ()


@pytest.mark.parametrize(("items", "key", "reason"), [
    ({"a": 1}, "inhibit_rules", "must be a list"),
    (["x"], "inhibit_rules[0]", "must be a mapping"),
    ([{"source_matchers": ["a=b"], "target_matchers": ["c=d"]}], "inhibit_rules[0].equal",
     "is required"),
    ([{"source_match": {"a": "b"}, "target_matchers": ["c=d"], "equal": ["host"]}],
     "inhibit_rules[0].source_match", "write source_matchers"),
    ([{"source_matchers": [], "target_matchers": ["c=d"], "equal": ["host"]}],
     "inhibit_rules[0].source_matchers", "non-empty list"),
    ([{"source_matchers": ["a=b"], "target_matchers": [3], "equal": ["host"]}],
     "inhibit_rules[0].target_matchers[0]", "must be a string"),
    ([{"source_matchers": ["a=b"], "target_matchers": ["c=d"], "equal": ["mountpoint"]}],
     "inhibit_rules[0].equal", "must include 'host'"),
    ([{"source_matchers": ["a=b"], "target_matchers": ["c=d"], "equal": ["host", "1x"]}],
     "inhibit_rules[0].equal[1]", "not a label name"),
])
def test_bad_rules_name_the_key(items, key, reason):
    with pytest.raises(ConfigError) as caught:
        parse_inhibit_rules(items, source="r.yml")
    assert (caught.value.source, caught.value.key) == ("r.yml", key)
    assert reason in caught.value.reason


def test_rule_index_answers_as_every_rule_does():
    """RuleIndex (rules looked up by alert name) gives the same answers as asking each rule,
    for the bundled rules plus rules without a name, with two names and with a regex name,
    over the bundled rules' alert names, unknown names and no name at all."""
    import random

    from alerting.inhibition import RuleIndex
    from collector.rules_file import load_rule_set

    bundled = load_rule_set(None)
    rules = (*bundled.inhibit_rules,
             InhibitRule(source_matchers=(Matcher("severity", "=", "critical"),),
                         target_matchers=(Matcher("severity", "=~", "warning|info"),),
                         equal=("host",)),
             InhibitRule(source_matchers=(Matcher("alertname", "=", "A"),
                                          Matcher("alertname", "=", "B")),
                         target_matchers=(Matcher("alertname", "=~", "Disk.*"),),
                         equal=()),
             # named, but its other matchers rarely hold: the unnamed rules must still count
             InhibitRule(source_matchers=(Matcher("alertname", "=", "X"),
                                          Matcher("severity", "=", "info")),
                         target_matchers=(Matcher("alertname", "=", "Y"),
                                          Matcher("mountpoint", "=", "/var")),
                         equal=("host",)),
             InhibitRule(source_matchers=(Matcher("alertname", "!=", "HostDown"),),
                         target_matchers=(Matcher("alertname", "=", ""),), equal=()))
    assert len(bundled.inhibit_rules) >= 2, "the bundled rules inhibit something"
    index = RuleIndex(rules)
    named = sorted({m.value for rule in rules
                    for m in (*rule.source_matchers, *rule.target_matchers)
                    if m.name == "alertname"})
    names = [*named, "Unknown", "DiskFull", "A", "B", None]
    values = {"severity": ["critical", "warning", "info", None],
              "mountpoint": ["/", "/var", None], "component": ["db", None]}
    rng = random.Random(7)
    sources = targets = 0
    for _ in range(3000):
        labels = {"host": "h1"}
        name = rng.choice(names)
        if name is not None:
            labels["alertname"] = name
        for key, choices in values.items():
            if (value := rng.choice(choices)) is not None:
                labels[key] = value
        expect_target = any(rule.is_target(labels) for rule in rules)
        expect_source = any(rule.is_source(labels) for rule in rules)
        assert index.is_target(labels) is expect_target, labels
        assert index.is_source(labels) is expect_source, labels
        targets += expect_target
        sources += expect_source
    assert 0 < targets < 3000 and 0 < sources < 3000    # both answers were seen
