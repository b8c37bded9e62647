"""The Prometheus rule file made from our rules: promtool accepts it, and Prometheus's rule engine
(`promtool test rules`) fires exactly when, and with exactly the text, our evaluator does."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerting.rule_export import alerting_rule, go_template, to_prometheus
from alerting.rule_templates import render
from alerting.rules import Evaluation, Rule, Sample, parse_rules
from alerting.ticket import Recovery, Urgency
from collector.rules_file import load_rules
from tests.services import require_binary

pytestmark = pytest.mark.services


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_binary("promtool"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False)


def write_rule_file(rules: tuple[Rule, ...], path: Path) -> Path:
    path.write_text(yaml.safe_dump(to_prometheus(rules), sort_keys=False))
    return path


# Every feature once: all operators, matchers (one needing escapes), every template function,
# descriptions, both recoveries, host-down, compound and sub-second durations.
RICH = parse_rules({"rules": [
    {"name": "GreaterThan", "metric": "regie_cpu_utilisation_ratio", "op": ">", "value": 0.9,
     "for": "5m", "urgency": "medium", "component": "cpu",
     "summary": "CPU on {{ host }} is {{ value | humanizePercentage }} busy"},
    {"name": "AtLeast", "metric": "regie_filesystem_used_ratio",
     "labels": {"mountpoint": "/", "fstype": "ext4"}, "op": ">=", "value": 0.97,
     "for": "1h30m", "urgency": "high", "component": "filesystem",
     "summary": "{{ labels.mountpoint }} ({{ labels.device }}) on {{ host }} is full",
     "description": "{{ value }} used", "recovery": "confirm"},
    {"name": "LessThan", "metric": "regie_filesystem_avail_bytes", "op": "<", "value": 1e9,
     "for": "1500ms", "urgency": "low", "component": "filesystem",
     "summary": "{{ value | humanize1024 }}B left on {{ labels.mountpoint }}"},
    {"name": "AtMost", "metric": "regie_uptime_seconds", "op": "<=", "value": 600,
     "urgency": "low", "component": "host", "summary": "{{ host }} rebooted "
     "{{ value | humanizeDuration }} ago ({{ value | humanize }}s)"},
    {"name": "Equal", "metric": "regie_systemd_unit_failed", "labels": {"unit": 'odd"unit\\x'},
     "op": "==", "value": 1, "for": "1d", "urgency": "medium", "component": "service",
     "summary": "{{ labels.unit }} failed"},
    {"name": "NotEqual", "metric": "regie_agent_collector_success", "op": "!=", "value": 1,
     "for": "0s", "urgency": "low", "component": "agent",
     "summary": "collector {{ labels.collector }} at {{ value }}"},
    {"name": "HostGone", "metric": "up", "op": "==", "value": 0, "for": "2m",
     "urgency": "high", "component": "host", "host_down": True, "summary": "{{ host }} down"},
]}, source="rich")


def test_alerting_rule_shape():
    rule = next(r for r in RICH if r.name == "AtLeast")
    assert alerting_rule(rule) == {
        "alert": "AtLeast",
        "expr": 'regie_filesystem_used_ratio{fstype="ext4",mountpoint="/"} >= 0.97',
        "for": "1h30m",
        "labels": {"urgency": "high", "component": "filesystem", "regie_rule": "AtLeast",
                   "regie_recovery": "confirm"},
        "annotations": {
            "summary": "{{ $labels.mountpoint }} ({{ $labels.device }}) on "
                       "{{ with $labels.host }}{{ . }}{{ else }}{{ $labels.instance }}"
                       "{{ end }} is full",
            "description": "{{ $value }} used",
        },
    }
    host_gone = alerting_rule(next(r for r in RICH if r.name == "HostGone"))
    assert (host_gone["expr"], host_gone["labels"]["regie_host_down"]) == ("up == 0", "true")
    assert "description" not in host_gone["annotations"]


@pytest.mark.parametrize(
    ("ours", "prometheus"),
    [
        ("{{ host }}", "{{ with $labels.host }}{{ . }}{{ else }}{{ $labels.instance }}{{ end }}"),
        ("{{value}}", "{{ $value }}"),
        ("{{ labels.mountpoint }} is {{ value | humanizePercentage }} full",
         "{{ $labels.mountpoint }} is {{ $value | humanizePercentage }} full"),
        ("plain } text", "plain } text"),
    ],
)
def test_templates_translate(ours, prometheus):
    assert go_template(ours) == prometheus


def test_bundled_default_rules_pass_promtool(tmp_path):
    rules = load_rules(None)
    path = write_rule_file(rules, tmp_path / "defaults.yml")
    result = promtool("check", "rules", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_rich_rules_pass_promtool(tmp_path):
    path = write_rule_file(RICH, tmp_path / "rich.yml")
    result = promtool("check", "rules", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RICH)} rules found" in result.stdout


def test_promtool_check_is_not_a_rubber_stamp(tmp_path):
    doc = to_prometheus(RICH)
    doc["groups"][0]["rules"][0]["expr"] = "regie_cpu_utilisation_ratio >"
    doc["groups"][0]["rules"][1]["annotations"]["summary"] = "{{ $labels.x "
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(doc))
    result = promtool("check", "rules", str(path), cwd=tmp_path)
    assert result.returncode == 1


# --------------------------------------------------------------------------- equivalence

STALE = "stale"


@dataclass(frozen=True)
class Series:
    host: str
    metric: str
    values: tuple[float | str, ...]          # one per minute from 0; STALE ends the series
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    rules: tuple[Rule, ...]
    series: tuple[Series, ...]
    # (minute, rule, host) where our evaluator must have the alert firing: keeps the
    # comparison honest (two engines that never fire would also "agree").
    must_fire: tuple[tuple[int, str, str], ...]

    @property
    def minutes(self) -> int:
        return max(len(s.values) for s in self.series)


DEFAULTS = load_rules(None)
T0 = datetime(2024, 5, 1, tzinfo=UTC)

CASES = {
    "filesystem per mountpoint, two thresholds": Case(DEFAULTS, (
        Series("web1", "regie_filesystem_used_ratio",
               (0.5, 0.91, 0.92, 0.95, 0.975, 0.98, 0.99, 0.99, 0.92, 0.93, 0.93, 0.93, 0.94,
                0.94, 0.5, 0.5),
               {"device": "/dev/vda1", "fstype": "ext4", "mountpoint": "/"}),
        Series("web1", "regie_filesystem_used_ratio", (0.5,) * 16,
               {"device": "/dev/vdb1", "fstype": "xfs", "mountpoint": "/var"}),
        Series("web2", "regie_filesystem_used_ratio",
               (0.95,) * 12 + (STALE,), {"device": "/dev/sda1", "fstype": "ext4",
                                         "mountpoint": "/srv"}),
    ), must_fire=((6, "FilesystemAlmostFull", "web1"), (11, "FilesystemFilling", "web1"),
                  (10, "FilesystemFilling", "web2"))),
    "cpu and memory with a dip": Case(DEFAULTS, (
        Series("db1", "regie_cpu_utilisation_ratio",
               (0.95, 0.95, 0.95, 0.95, 0.5, 0.95, 0.95, 0.95, 0.95, 0.95, 0.96, 0.97, 0.2)),
        Series("db1", "regie_memory_used_ratio", (0.91,) * 7 + (0.89,)),
    ), must_fire=((10, "CpuUtilisationHigh", "db1"), (5, "MemoryUsedHigh", "db1"))),
    "agent down and back": Case(DEFAULTS, (
        Series("web1", "up", (1, 1, 0, 0, 0, 0, 1, 0, 0, 1)),
        Series("web2", "up", (1,) * 10),
    ), must_fire=((4, "RegieAgentDown", "web1"),)),
    "collector failing": Case(DEFAULTS, (
        Series("web1", "regie_agent_collector_success", (1,) + (0,) * 12,
               {"collector": "disk"}),
        Series("web1", "regie_agent_collector_success", (1,) * 13, {"collector": "cpu"}),
    ), must_fire=((11, "RegieAgentCollectorFailing", "web1"),)),
    "every operator, matcher and number format": Case(RICH, (
        *(Series("web1", "regie_agent_collector_success", (v, v), {"collector": f"c{i}"})
          for i, v in enumerate((1234567.0, 1e8, 0.00001234, 1e21, 0.9534, 123456.0, -2048.0,
                                 899.99, 0.5, 0.0, 1.0))),
        Series("web1", "regie_uptime_seconds", (59.5, 3725.0, 90061.0)),
        Series("web1", "regie_filesystem_avail_bytes", (5e8, 2e9, 1023.0, 0.5),
               {"mountpoint": "/boot"}),
        Series("web1", "regie_filesystem_used_ratio", (0.97, 0.99, 0.99),
               {"mountpoint": "/", "fstype": "ext4", "device": "/dev/vda1"}),
        Series("web1", "regie_filesystem_used_ratio", (0.99, 0.99, 0.99),
               {"mountpoint": "/", "fstype": "xfs", "device": "/dev/vda2"}),
        Series("web1", "regie_systemd_unit_failed", (1, 1), {"unit": 'odd"unit\\x'}),
        Series("web1", "regie_systemd_unit_failed", (1, 1), {"unit": "plain.service"}),
    ), must_fire=((0, "NotEqual", "web1"), (0, "AtMost", "web1"), (3, "LessThan", "web1"))),
}


def scrape_labels(host: str) -> dict[str, str]:
    return {"instance": f"{host}:9847", "job": "regie", "host": host}


def promql_series(series: Series) -> str:
    # As the shipped Prometheus configuration labels them: `host` besides the scrape address.
    labels = {**series.labels, **scrape_labels(series.host)}
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return f"{series.metric}{{{inner}}}"


def promql_values(series: Series, case: Case) -> str:
    """promtool's notation; a series shorter than the case ends stale, as it does for us."""
    padded = series.values + (STALE,) * (case.minutes - len(series.values))
    return " ".join(v if v == STALE else repr(float(v)) for v in padded)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def our_timeline(case: Case) -> list[Evaluation]:
    """Our evaluator's state after each minute, fed what Prometheus is fed."""
    evaluation = Evaluation(case.rules)
    states = []
    for minute in range(case.minutes):
        samples: dict[str, list[Sample]] = {}
        up: dict[str, bool] = {}
        for s in case.series:
            value = s.values[minute] if minute < len(s.values) else STALE
            if value == STALE:
                samples.setdefault(s.host, [])
                continue
            if s.metric == "up":
                up[s.host] = value == 1
            else:
                samples.setdefault(s.host, []).append(Sample(s.metric, s.labels, float(value)))
        _, evaluation = evaluation.step(samples, now=T0 + timedelta(minutes=minute), up=up)
        states.append(evaluation)
    return states


def expected_alerts(rule: Rule, evaluation: Evaluation) -> list[dict[str, Any]]:
    """What Prometheus must report firing for `rule`, as our evaluator sees it."""
    out = []
    for (name, host, labels), state in sorted(evaluation.alerts.items()):
        if name != rule.name or not state.firing:
            continue
        label_map = dict(labels)
        exported = alerting_rule(rule)
        annotations = {"summary": render(rule.summary, host=host, value=state.value,
                                         labels=label_map)}
        if rule.description:
            annotations["description"] = render(rule.description, host=host,
                                                value=state.value, labels=label_map)
        if rule.runbook_url:
            annotations["runbook_url"] = rule.runbook_url
        out.append({
            "exp_labels": {**label_map, **scrape_labels(host),
                           **exported["labels"]},
            "exp_annotations": annotations,
        })
    return out


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_prometheus_fires_exactly_when_our_evaluator_does(case, tmp_path):
    timeline = our_timeline(case)
    for minute, rule_name, host in case.must_fire:
        assert any(k[:2] == (rule_name, host) for k in timeline[minute].firing), (
            f"our evaluator does not fire {rule_name} for {host} at minute {minute}")

    write_rule_file(case.rules, tmp_path / "rules.yml")
    tests = [{
        "eval_time": f"{minute}m",
        "alertname": rule.name,
        "exp_alerts": expected_alerts(rule, evaluation),
    } for minute, evaluation in enumerate(timeline) for rule in case.rules]
    unit = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": promql_series(s), "values": promql_values(s, case)}
                             for s in case.series],
            "alert_rule_test": tests,
        }],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(unit, sort_keys=False))
    result = promtool("test", "rules", "test.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "SUCCESS" in result.stdout


def test_the_comparison_notices_a_difference(tmp_path):
    """Feed promtool a wrong expectation (fired one minute early): it must fail."""
    case = CASES["agent down and back"]
    rule = next(r for r in case.rules if r.name == "RegieAgentDown")
    timeline = our_timeline(case)
    write_rule_file(case.rules, tmp_path / "rules.yml")
    unit = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": promql_series(s), "values": promql_values(s, case)}
                         for s in case.series],
        "alert_rule_test": [{"eval_time": "3m", "alertname": rule.name,
                             "exp_alerts": expected_alerts(rule, timeline[4])}],
    }]}
    (tmp_path / "test.yml").write_text(yaml.safe_dump(unit, sort_keys=False))
    assert promtool("test", "rules", "test.yml", cwd=tmp_path).returncode == 1


def test_default_rules_recover_and_page_sensibly():
    by_name = {r.name: r for r in DEFAULTS}
    down = by_name["RegieAgentDown"]
    assert (down.metric, down.op, down.value, down.host_down, down.urgency) == (
        "up", "==", 0.0, True, Urgency.HIGH)
    assert all(r.recovery == Recovery.RESOLVE for r in DEFAULTS)
    assert [r.name for r in DEFAULTS if r.host_down] == ["RegieAgentDown"]
