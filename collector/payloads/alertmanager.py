"""Alertmanager webhook (version 4) -> Signals.

https://prometheus.io/docs/alerting/latest/configuration/#webhook_config. Each alert's
`fingerprint` is its dedup key (namespaced `alertmanager/<fingerprint>`); `status: resolved`
resolves. Alertmanager retries a batch on 5xx, so the same batch may arrive again: the store
treats a repeated firing alert as a repeat of its open ticket, never a second ticket.

Label conventions read here (all optional): `host`/`hostname`/`nodename`/`instance` (port
stripped; in the collector mapped to the agent's one host name, collector/host_names.py) for
the host, `service` (else `job`), `component`, `urgency` (else from `severity`),
`regie_recovery: confirm`, and `regie_host_down: "true"` (or an alert named HostDown,
InstanceDown or RegieAgentDown) for a host-down alert that inhibits the host's others.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from alerting.ticket import Action, Recovery, Signal, Urgency
from collector.payloads.details import capped, string_bound
from collector.payloads.fields import BadPayload, mapping, string, string_map, timestamp

MAX_ALERTS = 10_000
MAX_NAME = 255
SEVERITY_URGENCY = {
    "critical": Urgency.HIGH, "page": Urgency.HIGH, "error": Urgency.HIGH,
    "warning": Urgency.MEDIUM, "info": Urgency.LOW, "none": Urgency.LOW,
}
HOST_DOWN_ALERTS = frozenset({"HostDown", "InstanceDown", "RegieAgentDown"})
_URGENCY = {urgency.value: urgency for urgency in Urgency}


def host_of(labels: dict[str, str],
            known_host: Callable[[str], str | None] | None = None) -> str | None:
    """The alert's host. `known_host` (collector/host_names.py) names a known agent by its
    address or name, so both alerting paths name a host alike; else the labels as they are.
    The scrape address is asked first: an evaluator target's exact address is the most
    specific thing known about an agent, and it is what the evaluator names its host by."""
    if known_host is not None:
        for key in ("instance", "host", "hostname", "nodename"):
            if labels.get(key) and (known := known_host(labels[key])):
                return known
    for key in ("host", "hostname", "nodename"):
        if labels.get(key):
            return labels[key]
    instance = labels.get("instance")
    if not instance:
        return None
    if instance.startswith("["):  # [v6]:port
        return instance[1:].partition("]")[0] or None
    host, sep, port = instance.rpartition(":")
    return host if sep and port.isdigit() and host else instance


def urgency_of(labels: dict[str, str]) -> Urgency:
    # Dictionary lookups: Urgency(...) raising ValueError for the usual alert without an
    # `urgency` label cost more than the rest of this function.
    urgency = _URGENCY.get(labels.get("urgency", ""))
    if urgency is not None:
        return urgency
    return SEVERITY_URGENCY.get(labels.get("severity", "").lower(), Urgency.MEDIUM)


def _name(label: str | None) -> str | None:
    """A label used as host, service or component name, cut to the 255 characters those
    columns hold (a blackbox `instance` may be a long URL): refusing it would refuse the
    whole batch, and the cut is the same on every repeat, so dedup and correlation hold."""
    return label[:MAX_NAME] if label else label


def parse_webhook(body: Any, *, now: datetime,
                  known_host: Callable[[str], str | None] | None = None) -> list[Signal]:
    message = mapping(body, "body")
    version = message.get("version")
    if version is not None and version != "4":
        raise BadPayload(f"version: only webhook version '4' is understood, not {version!r}")
    alerts = message.get("alerts")
    if not isinstance(alerts, list):
        raise BadPayload("alerts: must be an array")
    if len(alerts) > MAX_ALERTS:
        raise BadPayload(f"alerts: more than {MAX_ALERTS} in one request")
    return [_alert(alert, f"alerts[{i}]", now=now, known_host=known_host)
            for i, alert in enumerate(alerts)]


def _alert(raw: Any, path: str, *, now: datetime,
           known_host: Callable[[str], str | None] | None) -> Signal:
    alert = mapping(raw, path)
    status = alert.get("status")
    if status not in ("firing", "resolved"):
        raise BadPayload(f"{path}.status: must be 'firing' or 'resolved'")
    fingerprint = string(alert.get("fingerprint"), f"{path}.fingerprint", max_length=128)
    labels = string_map(alert.get("labels", {}), f"{path}.labels")
    annotations = string_map(alert.get("annotations", {}), f"{path}.annotations")
    starts = timestamp(alert.get("startsAt"), f"{path}.startsAt", default=now)
    ends = timestamp(alert.get("endsAt"), f"{path}.endsAt", default=now)
    generator = string(alert.get("generatorURL"), f"{path}.generatorURL", max_length=4096,
                       required=False, allow_empty=True)
    name = labels.get("alertname", "")
    summary = (annotations.get("summary") or annotations.get("description") or name
               or f"alert {fingerprint}")
    return Signal(
        dedup_key=f"alertmanager/{fingerprint}",
        action=Action.TRIGGER if status == "firing" else Action.RESOLVE,
        origin="alertmanager",
        summary=summary[:1024],
        occurred_at=starts if status == "firing" else ends,
        host=_name(host_of(labels, known_host)),
        service=_name(labels.get("service") or labels.get("job")),
        component=_name(labels.get("component")),
        urgency=urgency_of(labels),
        recovery=Recovery.CONFIRM if labels.get("regie_recovery") == "confirm"
        else Recovery.RESOLVE,
        host_down=labels.get("regie_host_down") == "true" or name in HOST_DOWN_ALERTS,
        details=capped({"labels": labels, "annotations": annotations,
                        "generator_url": generator or "", "starts_at": starts.isoformat()},
                       strings=string_bound(labels, annotations, generator or "")),
    )
