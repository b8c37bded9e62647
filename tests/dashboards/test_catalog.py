"""Every metric a dashboard or recording rule reads is exported by Regie: documented in
docs/metrics.md (which tests/test_docs.py checks both ways against what the agent and the
collector export) or recorded by a rule of dashboards/recording_rules.py. A renamed metric
fails here, not as an empty panel in production."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboards import build, recording_rules
from dashboards.promql import metric_names, regex_of, substitute, variables_used

ROOT = Path(__file__).resolve().parents[2]
# Prometheus's own series for every target (1 when the scrape succeeded).
PROMETHEUS_OWN = {"up"}
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


def documented() -> tuple[set[str], set[str]]:
    """(metric names, histogram names) of docs/metrics.md's tables."""
    names, histograms = set(), set()
    for line in (ROOT / "docs" / "metrics.md").read_text().splitlines():
        match = re.match(r"^\| `(regie_[a-z0-9_]+)` \|", line)
        if match:
            names.add(match.group(1))
            if "| histogram |" in line:
                histograms.add(match.group(1))
    return names, histograms


def known(name: str) -> bool:
    names, histograms = documented()
    if name in names or name in PROMETHEUS_OWN or name in recording_rules.NAMES:
        return True
    return any(name.endswith(s) and name.removesuffix(s) in histograms
               for s in HISTOGRAM_SERIES)


def every_expression() -> list[tuple[str, str]]:
    """(where, PromQL) for every panel query, variable query and recording rule."""
    out = []
    for name, model in build.dashboards().items():
        for panel in model["panels"]:
            for target in panel.get("targets", []):
                out.append((f"{name}: {panel['title']}", target["expr"]))
        for template in model["templating"]["list"]:
            query = re.fullmatch(r"label_values\((.+),\s*\w+\)", template["query"])
            assert query, template["query"]
            out.append((f"{name}: variable {template['name']}", query.group(1)))
    out += [(f"recording rule {r.record}", r.expr) for r in recording_rules.RULES]
    return out


def test_every_metric_read_is_exported_or_recorded():
    unknown = {}
    for where, expr in every_expression():
        names = metric_names(expr)
        assert names, f"{where}: no metric found in {expr!r}"
        for name in names - {n for n in names if known(n)}:
            unknown.setdefault(name, []).append(where)
    assert unknown == {}, unknown


def test_every_recording_rule_is_read_by_a_dashboard():
    read = set()
    for where, expr in every_expression():
        if not where.startswith("recording rule"):
            read |= metric_names(expr)
    assert recording_rules.NAMES - read == set()


@pytest.mark.parametrize(("expr", "expected"), [
    ('sum by (host) (rate(regie_cpu_seconds_total{mode!="idle"}[5m]))',
     {"regie_cpu_seconds_total"}),
    ('topk(25, host:regie_cpu_utilisation:rate5m{job=~"$job", host=~"$host"})',
     {"host:regie_cpu_utilisation:rate5m"}),
    ("regie_load1 / on (job, host) group_left regie_cpus_online offset 5m",
     {"regie_load1", "regie_cpus_online"}),
    ('histogram_quantile(0.9, sum by (le) (rate(x_bucket{a="b(c)"}[1d]))) > 1e3',
     {"x_bucket"}),
    ('count(up{job="a"} == 0) or vector(0)', {"up"}),
    ("(regie_eos_end_timestamp_seconds - time()) / 86400 < 243 >= 0",
     {"regie_eos_end_timestamp_seconds"}),
    ('label_replace(regie_snmp_up, "dst", "$1", "src", "(.*)")', {"regie_snmp_up"}),
])
def test_metric_names_of_an_expression(expr, expected):
    assert metric_names(expr) == expected


def test_variables_are_substituted_as_grafana_does():
    assert substitute('x{host=~"$host", job=~"${job}"}[$__rate_interval]',
                      {"host": regex_of(["web-01", "db.02"]), "job": "regie",
                       "__rate_interval": "2m"}) == (
        'x{host=~"(web-01|db\\\\.02)", job=~"regie"}[2m]')
    assert variables_used('a{h=~"$host"} / b[$__range] ${job:regex}') == {
        "host", "__range", "job"}
    with pytest.raises(KeyError):
        substitute("x{h=~\"$undefined\"}", {})
