"""Threshold rules as a Prometheus rule file: the other half of the one source of truth.

`to_prometheus(rules)` returns the ``groups:`` document (plain data; writing it is the caller's
job) that `promtool check rules` accepts. Each rule becomes one alerting rule::

    - alert: FilesystemFilling
      expr: regie_filesystem_used_ratio > 0.9
      for: 10m
      labels: {urgency: medium, component: filesystem, regie_rule: FilesystemFilling,
               regie_recovery: resolve}          # + regie_host_down: "true" for host-down rules
      annotations: {summary: "{{ $labels.mountpoint }} on {{ with $labels.host }}..."}

The labels carry what the collector's Alertmanager webhook needs to build the same ticket the
embedded evaluator would (urgency, component, recovery, host-down). Templates are translated
placeholder by placeholder (the syntax is in `alerting/rules.py`).

`to_alertmanager_inhibit_rules(rule_set)` renders the file's inhibit rules (alerting/
inhibition.py), plus the host-down one, as the ``inhibit_rules:`` of alertmanager.yml.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alerting.inhibition import HOST_LABEL, InhibitRule, Matcher
from alerting.rule_templates import Placeholder, template_parts
from alerting.rules import Rule, RuleSet, format_duration

GROUP = "regie"

# Our template fields -> Prometheus's alert template data. `host` is the `host` label the
# shipped Prometheus configuration gives every agent's series (deploy/prometheus/), else the
# scrape address, so both paths print the same host name wherever the relabelling is in place.
_GO_FIELDS = {"value": "$value"}
_GO_HOST = "{{ with $labels.host }}{{ . }}{{ else }}{{ $labels.instance }}{{ end }}"

# Host-down inhibition, which the collector applies to every rule with `host_down: true`
# (collector/store/signal_batch.py), as an Alertmanager rule: while a host-down alert fires,
# the host's other alerts are held.
HOST_DOWN_INHIBITION = InhibitRule(
    source_matchers=(Matcher("regie_host_down", "=", "true"),),
    target_matchers=(Matcher("regie_host_down", "!=", "true"),),
    equal=(HOST_LABEL,),
)


def to_prometheus(rules: Iterable[Rule], *, group: str = GROUP) -> dict[str, Any]:
    """The Prometheus rule-file document for `rules`, one group, in the rules' order."""
    return {"groups": [{"name": group, "rules": [alerting_rule(r) for r in rules]}]}


def alerting_rule(rule: Rule) -> dict[str, Any]:
    labels = {
        "urgency": rule.urgency.value,
        "component": rule.component,
        "regie_rule": rule.name,
        "regie_recovery": rule.recovery.value,
    }
    if rule.host_down:
        labels["regie_host_down"] = "true"
    annotations = {"summary": go_template(rule.summary)}
    if rule.description:
        annotations["description"] = go_template(rule.description)
    if rule.runbook_url:
        annotations["runbook_url"] = rule.runbook_url
    return {
        "alert": rule.name,
        "expr": rule.condition,
        "for": format_duration(rule.for_seconds),
        "labels": labels,
        "annotations": annotations,
    }


def go_template(template: str) -> str:
    """Our template in Go template syntax: ``{{ labels.x }}`` -> ``{{ $labels.x }}``."""
    return "".join(part if isinstance(part, str) else _go_placeholder(part)
                   for part in template_parts(template))


def to_alertmanager_inhibit_rules(rule_set: RuleSet) -> dict[str, Any]:
    """The ``inhibit_rules:`` section of alertmanager.yml for `rule_set`: the host-down rule
    when a rule is marked `host_down`, then the file's own inhibit rules, in order."""
    rules = list(rule_set.inhibit_rules)
    if any(r.host_down for r in rule_set.rules):
        rules.insert(0, HOST_DOWN_INHIBITION)
    return {"inhibit_rules": [inhibit_rule(r) for r in rules]}


# Added to every exported rule's sources: without the `host` label (a Prometheus that does not
# relabel), "equal: [host]" would hold between any two hosts' alerts, both empty.
_SOURCE_HAS_HOST = Matcher(HOST_LABEL, "=~", ".+")


def inhibit_rule(rule: InhibitRule) -> dict[str, Any]:
    sources = (*rule.source_matchers, _SOURCE_HAS_HOST)
    return {"source_matchers": [str(m) for m in sources],
            "target_matchers": [str(m) for m in rule.target_matchers],
            "equal": list(rule.equal)}


def _go_placeholder(part: Placeholder) -> str:
    if part.field == "host":
        return _GO_HOST
    if part.field == "labels":
        return f"{{{{ $labels.{part.label} }}}}"
    pipe = f" | {part.function}" if part.function else ""
    return f"{{{{ {_GO_FIELDS[part.field]}{pipe} }}}}"
