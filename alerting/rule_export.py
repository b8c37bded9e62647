"""Threshold rules as a Prometheus rule file: the other half of the one source of truth.

`to_prometheus(rules)` returns the ``groups:`` document (plain data; writing it is the caller's
job) that `promtool check rules` accepts. Each rule becomes one alerting rule::

    - alert: FilesystemFilling
      expr: regie_filesystem_used_ratio > 0.9
      for: 10m
      labels: {urgency: medium, component: filesystem, regie_rule: FilesystemFilling,
               regie_recovery: resolve}          # + regie_host_down: "true" for host-down rules
      annotations: {summary: "{{ $labels.mountpoint }} on {{ $labels.instance }} ..."}

The labels carry what the collector's Alertmanager webhook needs to build the same ticket the
embedded evaluator would (urgency, component, recovery, host-down). Templates are translated
placeholder by placeholder (the syntax is in `alerting/rules.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alerting.rule_templates import Placeholder, template_parts
from alerting.rules import Rule, format_duration

GROUP = "regie"

# Our template fields -> Prometheus's alert template data.
_GO_FIELDS = {"host": "$labels.instance", "value": "$value"}


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


def _go_placeholder(part: Placeholder) -> str:
    if part.field == "labels":
        return f"{{{{ $labels.{part.label} }}}}"
    pipe = f" | {part.function}" if part.function else ""
    return f"{{{{ {_GO_FIELDS[part.field]}{pipe} }}}}"
