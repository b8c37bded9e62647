"""PagerDuty Events API v2 -> a Signal, so existing tools can point at Regie unchanged.

https://developer.pagerduty.com/docs/events-api-v2/trigger-events/. `routing_key` is an ingest
token (checked by the handler); `event_action` trigger/acknowledge/resolve; `dedup_key`
(generated for a trigger without one, as PagerDuty does); `payload` summary/source/severity
required for a trigger. Keys are stored namespaced `events/<dedup_key>`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerting.ticket import Action, Signal, Urgency
from collector.payloads.details import capped
from collector.payloads.fields import BadPayload, mapping, string, timestamp

SEVERITY_URGENCY = {"critical": Urgency.HIGH, "error": Urgency.HIGH,
                    "warning": Urgency.MEDIUM, "info": Urgency.LOW}


@dataclass(frozen=True, slots=True)
class Event:
    routing_key: str
    dedup_key: str         # as the client knows it (echoed in the answer)
    signal: Signal


def parse_event(body: Any, *, now: datetime) -> Event:
    event = mapping(body, "body")
    routing_key = string(event.get("routing_key"), "routing_key", max_length=200)
    try:
        action = Action(event.get("event_action"))
    except ValueError:
        raise BadPayload("event_action: must be one of 'trigger', 'acknowledge', 'resolve'") \
            from None
    dedup_key = string(event.get("dedup_key"), "dedup_key", max_length=255,
                       required=action != Action.TRIGGER)
    if dedup_key is None:
        dedup_key = uuid.uuid4().hex
    trigger = action == Action.TRIGGER
    raw_payload = event.get("payload")
    payload = mapping(raw_payload, "payload") if trigger or raw_payload is not None else {}
    summary = string(payload.get("summary"), "payload.summary", max_length=1024,
                     required=trigger) or f"{action.value} {dedup_key}"
    source = string(payload.get("source"), "payload.source", max_length=255, required=trigger)
    severity = payload.get("severity")
    # Not a string ({}, []) is refused before the lookup: an unhashable one would raise.
    if (trigger or severity is not None) and (not isinstance(severity, str)
                                              or severity not in SEVERITY_URGENCY):
        raise BadPayload("payload.severity: must be one of 'critical', 'error', 'warning', "
                         "'info'")
    urgency = SEVERITY_URGENCY.get(severity, Urgency.MEDIUM)
    component = string(payload.get("component"), "payload.component", max_length=255,
                       required=False)
    group = string(payload.get("group"), "payload.group", max_length=255, required=False)
    klass = string(payload.get("class"), "payload.class", max_length=255, required=False)
    occurred = timestamp(payload.get("timestamp"), "payload.timestamp", default=now)
    custom = payload.get("custom_details")
    if custom is not None and not isinstance(custom, dict | list | str | int | float | bool):
        raise BadPayload("payload.custom_details: must be JSON")
    signal = Signal(
        dedup_key=f"events/{dedup_key}",
        action=action,
        origin="events",
        summary=summary,
        occurred_at=occurred,
        host=source,
        service=group,
        component=component,
        urgency=urgency,
        details=capped({"class": klass, "severity": severity, "custom_details": custom,
                        "client": event.get("client") if isinstance(event.get("client"), str)
                        else None}),
    )
    return Event(routing_key=routing_key, dedup_key=dedup_key, signal=signal)
