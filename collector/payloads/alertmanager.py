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
from collector.payloads.details import MAX_DETAILS_BYTES, capped, string_bound
from collector.payloads.fields import (
    BadPayload,
    cut,
    go_utc,
    mapping,
    plain_string_map,
    string,
    string_map,
    timestamp,
)

MAX_ALERTS = 10_000
# A label used as host, service or component name is cut to the 255 characters those columns
# hold (a blackbox `instance` may be a long URL): refusing it would refuse the whole batch,
# and the cut is the same on every repeat, so dedup and correlation hold.
MAX_NAME = 255
# Prometheus writes the rule's whole expression into an alert's generatorURL: a long rule
# makes a long link, kept whole up to the ticket's details bound, cut (and marked) beyond.
MAX_GENERATOR_URL = MAX_DETAILS_BYTES
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
    return [_alert(alert, i, now=now, known_host=known_host) for i, alert in enumerate(alerts)]


_ACTIONS = {"firing": Action.TRIGGER, "resolved": Action.RESOLVE}


def _alert(raw: Any, i: int, *, now: datetime,
           known_host: Callable[[str], str | None] | None) -> Signal:
    # Every alert of every request comes here, so each field is first tested as Alertmanager
    # writes it, without building its path for an error message; whatever that test does
    # not accept goes through the general reader (fields.py), which refuses it with its
    # path and reason, field by field in the same order as before.
    alert = raw if type(raw) is dict else mapping(raw, f"alerts[{i}]")
    status = alert.get("status")
    try:
        action = _ACTIONS.get(status)
    except TypeError:  # an unhashable status (an array, an object)
        action = None
    if action is None:
        raise BadPayload(f"alerts[{i}].status: must be 'firing' or 'resolved'")
    fingerprint = alert.get("fingerprint")
    if not (type(fingerprint) is str and 0 < len(fingerprint) <= 128
            and not fingerprint.isspace() and "\x00" not in fingerprint):
        fingerprint = string(fingerprint, f"alerts[{i}].fingerprint", max_length=128)
    labels = alert.get("labels", {})
    if not plain_string_map(labels):
        labels = string_map(labels, f"alerts[{i}].labels")
    annotations = alert.get("annotations", {})
    if not plain_string_map(annotations):
        annotations = string_map(annotations, f"alerts[{i}].annotations")
    starts_at = alert.get("startsAt")
    starts = go_utc(starts_at) or timestamp(starts_at, f"alerts[{i}].startsAt", default=now)
    ends_at = alert.get("endsAt")
    ends = go_utc(ends_at) or timestamp(ends_at, f"alerts[{i}].endsAt", default=now)
    generator = alert.get("generatorURL")
    if generator is None:
        generator = ""
    elif type(generator) is not str:
        raise BadPayload(f"alerts[{i}].generatorURL: must be a string")
    elif "\x00" in generator:
        raise BadPayload(f"alerts[{i}].generatorURL: must not contain NUL characters")
    else:
        generator = cut(generator, MAX_GENERATOR_URL)   # a long link is cut, not refused
    name = labels.get("alertname", "")
    summary = (annotations.get("summary") or annotations.get("description") or name
               or f"alert {fingerprint}")
    details = {"labels": labels, "annotations": annotations, "generator_url": generator,
               "starts_at": starts.isoformat()}
    if string_bound(labels, annotations, generator) > MAX_DETAILS_BYTES:
        details = capped(details)
    host = host_of(labels, known_host)
    service = labels.get("service") or labels.get("job")
    component = labels.get("component")
    return Signal(
        dedup_key=f"alertmanager/{fingerprint}",
        action=action,
        origin="alertmanager",
        summary=summary[:1024],
        occurred_at=starts if action is Action.TRIGGER else ends,
        host=host[:MAX_NAME] if host else host,
        service=service[:MAX_NAME] if service else service,
        component=component[:MAX_NAME] if component else component,
        urgency=urgency_of(labels),
        recovery=Recovery.CONFIRM if labels.get("regie_recovery") == "confirm"
        else Recovery.RESOLVE,
        host_down=labels.get("regie_host_down") == "true" or name in HOST_DOWN_ALERTS,
        details=details,
    )
