"""The components of the OpenAPI document (collector/openapi.py): the JSON shapes of request
bodies and answers.

Request bodies say what the parsers in collector/payloads/ enforce: text fields as
`fields.string` reads them (`_text`), choices, timestamps as `fields.timestamp` reads them, and,
through `storable`, the rule of every body (collector/payloads/json_body.py): no string and no
key holds NUL.
"""

from __future__ import annotations

from typing import Any

from collector.auth import PERSON_PATTERN
from collector.openapi_maintenance import REQUEST_BODIES as MAINTENANCE_BODIES
from collector.openapi_maintenance import schemas as maintenance_schemas
from collector.payloads.changes import REQUEST_BODIES as CHANGE_BODIES
from collector.payloads.changes import schemas as change_schemas
from collector.payloads.json_body import MAX_DEPTH
from collector.query import NUL_FREE
from regie import scrape_target

_STR = {"type": "string"}

# What `collector/payloads/fields.string` reads as blank (str.strip()), as a regex class: a
# required text must hold something else; optional text may be blank (then it is absent).
_BLANK = "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x10000)) if c.isspace())
NOT_BLANK = f"^[^\\u0000]*[^\\u0000{_BLANK}][^\\u0000]*$"
# Body timestamps (collector/payloads/fields.timestamp): RFC 3339 with an offset whose UTC is
# within years 0001 to 9999 (so 9999-12-31 only at or east of UTC); "", null and Go's zero time
# (0001-...) mean "not given".
_BODY_YEARS = ("^((000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}"
               "|99[0-8][0-9]|999[0-8])-|9999-(0[1-9]|1[01])-|9999-12-([012][0-9]|30)T"
               "|9999-12-31T.*([Zz]|[+][0-9]{2}:[0-9]{2}|-00:00)$)")
_BODY_TIME = {"anyOf": [{"type": "string", "format": "date-time", "pattern": _BODY_YEARS},
                        {"type": "string", "pattern": "^0001-"},
                        {"enum": ["", None]}],
              "description": "RFC 3339 with an offset; absent, null, \"\" or Go's zero time "
                             "(0001-01-01T00:00:00Z) mean now"}


def _text(max_length: int, *, required: bool = False, description: str = "") -> dict[str, Any]:
    """A text field as collector/payloads/fields.string reads it: never NUL; a required one
    must not be blank; an optional one may be null or blank, meaning absent."""
    schema: dict[str, Any] = (
        {"type": "string", "maxLength": max_length, "pattern": NOT_BLANK} if required
        else {"type": ["string", "null"], "maxLength": max_length, "pattern": NUL_FREE})
    return {**schema, "description": description} if description else schema


def _choice(values: list[str], *, optional: bool = False) -> dict[str, Any]:
    """One of `values`; an optional one may also be null (its default)."""
    return {"enum": [*values, None]} if optional else {"type": "string", "enum": values}
_NULLABLE_STR = {"type": ["string", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_ENUM = {
    "status": ["open", "acknowledged", "resolved", "closed"],
    "priority": ["P1", "P2", "P3", "P4"],
    "source": ["monitoring", "user"],
    "criticality": ["business-critical", "high", "medium", "low"],
    "urgency": ["high", "medium", "low"],
}


# regie/scrape_target.py's rules, which the parser (collector/payloads/inventory.py) and
# the agent's settings apply: what this allows, the collector accepts.
_SCRAPE_ENDPOINT: dict[str, Any] = {
    "type": "object", "required": ["address", "scheme"],
    "description": "where Prometheus scrapes the agent; absent: the agent is no target",
    "properties": {
        "address": {"type": "string", "maxLength": scrape_target.ADDRESS_MAX_LENGTH,
                    "pattern": scrape_target.ADDRESS_PATTERN,
                    "description": scrape_target.ADDRESS_RULE},
        "scheme": {"type": "string", "enum": list(scrape_target.SCHEMES)},
        "labels": {
            "type": "object", "maxProperties": scrape_target.MAX_LABELS,
            "description": scrape_target.LABELS_RULE,
            "propertyNames": {
                "pattern": scrape_target.LABEL_NAME_PATTERN,
                "not": {"anyOf": [{"pattern": f"^{scrape_target.RESERVED_PREFIX}"},
                                  {"enum": list(scrape_target.RESERVED_LABELS)}]}},
            "additionalProperties": {
                "type": "string", "minLength": 1,
                "maxLength": scrape_target.LABEL_VALUE_MAX_LENGTH, "pattern": NUL_FREE}},
    },
}


def _person(*, required: bool = False, description: str = "") -> dict[str, Any]:
    """A person's name as collector/payloads/people.py reads it (the rule of collector/auth.py
    `person_name`); an optional one may be null or blank, meaning absent."""
    name = {"type": "string", "maxLength": 200, "pattern": PERSON_PATTERN}
    schema = name if required else {"anyOf": [{"type": "null"},
                                              {"type": "string", "pattern": f"^[{_BLANK}]*$"},
                                              name]}
    return {**schema, "description": description} if description else schema


# Who acts, for a token that names no person (the CLI's --as); a person's token acts as them.
ACTOR = _person(description="the person acting, when the token names none (else 403 unless "
                            "the same person)")


SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"],
              "properties": {"error": _STR}},
    "Health": {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string", "enum": ["ok", "unavailable"]},
        "error": {"type": "string", "enum": ["database unavailable", "database disk full"]},
        "reason": _STR}},
    # Any JSON value a body may carry where the collector keeps what it is given (custom
    # details, inventory observations): no NUL in strings or keys, nested at most MAX_DEPTH
    # levels, numbers finite (collector/payloads/json_body.py).
    "JsonValue": {
        "description": f"any JSON without NUL characters, nested at most {MAX_DEPTH} levels",
        "anyOf": [{"type": ["null", "boolean", "number"]},
                  {"type": "string", "pattern": NUL_FREE},
                  {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
                  {"type": "object", "propertyNames": {"pattern": NUL_FREE},
                   "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}}]},
    "Ticket": {
        "type": "object",
        "required": ["id", "status", "priority", "summary", "source", "occurrences",
                     "created_at"],
        "properties": {
            "id": {"type": "integer"}, "dedup_key": _NULLABLE_STR,
            "status": {"type": "string", "enum": _ENUM["status"]},
            "priority": {"type": "string", "enum": _ENUM["priority"]},
            "impact": {"type": "string", "enum": _ENUM["criticality"]},
            "urgency": {"type": "string", "enum": _ENUM["urgency"]},
            "summary": _STR, "description": _NULLABLE_STR, "host": _NULLABLE_STR,
            "service": _NULLABLE_STR, "component": _NULLABLE_STR,
            "source": {"type": "string", "enum": _ENUM["source"]},
            "origin": _NULLABLE_STR, "reporter": _NULLABLE_STR, "assignee": _NULLABLE_STR,
            "occurrences": {"type": "integer"},
            "first_seen": _TIME, "last_seen": _TIME, "created_at": _TIME, "updated_at": _TIME,
            "acknowledged_at": _TIME, "resolved_at": _TIME, "closed_at": _TIME,
            "recovered_at": _TIME, "parent_id": {"type": ["integer", "null"]},
            "priority_override_reason": _NULLABLE_STR,
            "maintenance": {"type": ["object", "null"], "description": (
                "the maintenance window it fired in (window, name, start, end): its "
                "escalation was held (docs/maintenance.md)")},
            "details": {"type": "object", "description": (
                "What the signal carried (labels, annotations, custom details), at most 64 KiB "
                "stored (docs/api.md); left out of ticket lists unless details=true")},
        },
    },
    "TimelineEntry": {"type": "object", "required": ["at", "kind"],
                      "properties": {"at": _TIME, "kind": _STR, "actor": _NULLABLE_STR,
                                     "message": _NULLABLE_STR}},
    "TicketList": {"type": "object", "required": ["tickets"],
                   "properties": {"tickets": {"type": "array",
                                              "items": {"$ref": "#/components/schemas/Ticket"}},
                                  "next_before": {"type": "integer"}}},
    "UserReport": {
        "type": "object", "additionalProperties": False, "required": ["summary"],
        "properties": {
            "summary": _text(500, required=True),
            "description": _text(20000),
            "reporter": _person(description="default: the token's person, else its name"),
            "host": _text(255),
            "service": _text(255),
            "component": _text(255),
            "impact": _choice(_ENUM["criticality"], optional=True),
            "urgency": _choice(_ENUM["urgency"], optional=True),
        },
    },
    "Transition": {"type": "object", "additionalProperties": False,
                   "properties": {"note": _text(20000), "actor": ACTOR}},
    "Acted": {"allOf": [{"$ref": "#/components/schemas/Ticket"}, {
        "type": "object", "required": ["already", "message"],
        "properties": {
            "already": {"type": "boolean", "description": "the ticket was in that state "
                                                          "already: only the note was added"},
            "message": {"type": "string", "description": "#42 acknowledged by alice at "
                                                         "2026-12-07 03:12 UTC"}}}]},
    "Note": {"type": "object", "additionalProperties": False, "required": ["text"],
             "properties": {"text": _text(20000, required=True), "actor": ACTOR}},
    "PriorityOverride": {
        "type": "object", "additionalProperties": False, "required": ["priority", "reason"],
        "properties": {"priority": {"type": "string", "enum": _ENUM["priority"]},
                       "reason": _text(2000, required=True),
                       "actor": ACTOR}},
    "Assignment": {
        "type": "object", "additionalProperties": False, "required": ["assignee"],
        "properties": {"assignee": _person(required=True), "actor": ACTOR}},
    "Host": {
        "type": "object",
        "required": ["name", "last_push_at", "pushes", "os", "end_of_support", "open_tickets"],
        "properties": {
            "name": _STR, "last_push_at": _TIME, "pushes": {"type": "integer"},
            "os": _NULLABLE_STR,
            "end_of_support": {"type": ["string", "null"],
                               "enum": ["past", "near", "extended", "supported", "unknown",
                                        None],
                               "description": "the worst of the host's matched software"},
            "open_tickets": {"type": "integer"},
            "os_release": {"type": "object"},
            "end_of_support_items": {"type": "array", "items": {"type": "object"}},
            "tickets": {"type": "array", "items": {"$ref": "#/components/schemas/Ticket"}}}},
    "HostList": {"type": "object", "required": ["hosts"],
                 "properties": {"hosts": {"type": "array",
                                          "items": {"$ref": "#/components/schemas/Host"}},
                                "next_after": _STR}},
    "AlertmanagerWebhook": {
        "type": "object", "required": ["alerts"],
        "description": "Alertmanager webhook payload, version 4 (other fields are ignored)",
        "properties": {
            "version": _choice(["4"], optional=True),
            "alerts": {"type": "array", "maxItems": 10000, "items": {
                "type": "object", "required": ["status", "fingerprint"],
                "properties": {
                    "status": _choice(["firing", "resolved"]),
                    "labels": {"$ref": "#/components/schemas/StringMap"},
                    "annotations": {"$ref": "#/components/schemas/StringMap"},
                    "startsAt": _BODY_TIME,
                    "endsAt": _BODY_TIME,
                    "generatorURL": {"type": ["string", "null"], "pattern": NUL_FREE,
                                     "description": "kept whole up to 65,536 characters, "
                                                    "cut (and marked) beyond"},
                    "fingerprint": _text(128, required=True),
                }}},
        },
    },
    # Labels and annotations (collector/payloads/fields.string_map).
    "StringMap": {"type": "object", "maxProperties": 200,
                  "propertyNames": {"maxLength": 256, "pattern": NUL_FREE},
                  "additionalProperties": {
                      "type": "string", "pattern": NUL_FREE,
                      "description": "values over 4,096 characters are cut (and marked), "
                                     "not refused"}},
    "AlertmanagerResult": {"type": "object", "required": ["status", "alerts"],
                           "properties": {"status": _STR, "alerts": {"type": "integer"}}},
    "Event": {
        "type": "object", "required": ["routing_key", "event_action"],
        "description": "PagerDuty Events API v2 event: a trigger needs a payload with summary, "
                       "source and severity; acknowledge and resolve need the dedup_key",
        "properties": {
            "routing_key": _text(200, required=True),
            "event_action": _choice(["trigger", "acknowledge", "resolve"]),
            "dedup_key": _text(255),
            "payload": {"type": ["object", "null"], "properties": {
                "summary": _text(1024),
                "source": _text(255),
                "severity": _choice(["critical", "error", "warning", "info"], optional=True),
                "timestamp": _BODY_TIME,
                "component": _text(255), "group": _text(255), "class": _text(255),
                "custom_details": {"$ref": "#/components/schemas/JsonValue"}}},
        },
        "if": {"properties": {"event_action": {"const": "trigger"}}},
        "then": {"required": ["payload"], "properties": {"payload": {
            "type": "object", "required": ["summary", "source", "severity"],
            "properties": {"summary": _text(1024, required=True),
                           "source": _text(255, required=True),
                           "severity": _choice(["critical", "error", "warning", "info"])}}}},
        "else": {"required": ["dedup_key"],
                 "properties": {"dedup_key": _text(255, required=True)}},
    },
    "EventResult": {"type": "object", "required": ["status", "message"],
                    "properties": {"status": _STR, "message": _STR, "dedup_key": _STR,
                                   "errors": {"type": "array", "items": _STR},
                                   "error": _STR}},
    "InventoryPush": {
        "type": "object", "required": ["idempotency_key", "document"],
        "properties": {
            "idempotency_key": _text(200, required=True),
            "document": {"type": "object", "required": ["schema", "host"], "properties": {
                "schema": {"type": "string", "enum": ["regie.inventory/v1"]},
                "host": {"type": "object", "required": ["hostname"],
                         "properties": {"hostname": _text(255, required=True)}},
                "observations": {"type": "array", "items": {
                    "type": "object", "required": ["source", "raw"],
                    "properties": {"source": _text(100, required=True),
                                   "raw": {"type": "object"}}}},
                "scrape": _SCRAPE_ENDPOINT}},
        },
    },
    "OnCall": {"type": "object", "required": ["at", "shifts"],
               "properties": {"at": _STR, "shifts": {"type": "array", "items": {
                   "type": "object",
                   "required": ["team", "role", "person", "start", "end", "reason"],
                   "properties": {"team": _STR, "role": _STR, "person": _STR,
                                  "start": _STR, "end": _STR, "reason": _STR}}}}},
    "NotificationList": {"type": "object", "required": ["notifications"], "properties": {
        "notifications": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "ticket_id": {"type": ["integer", "null"]},
            "vendor_case_id": {"type": ["integer", "null"]}, "channel": _STR,
            "recipient": _NULLABLE_STR, "kind": _STR,
            "status": {"type": "string", "enum": ["pending", "delivered", "dead"]},
            "attempts": {"type": "integer"}, "next_attempt_at": _STR, "created_at": _STR,
            "finished_at": _TIME, "last_error": _NULLABLE_STR}}},
        "next_before": {"type": "integer"}}},
    "EosReport": {"type": "object", "required": ["today", "until", "within"],
                  "properties": {"today": _STR, "until": _STR, "within": _STR,
                                 "items": {"type": "array", "items": {"type": "object"}},
                                 "groups": {"type": "array", "items": {"type": "object"}}}},
    # GET /api/v1/prometheus/targets: Prometheus's HTTP service discovery format.
    "PrometheusTargets": {
        "type": "array",
        "description": "Prometheus HTTP SD: one group per agent that announced its address",
        "items": {"type": "object", "required": ["targets", "labels"], "properties": {
            "targets": {"type": "array", "items": _STR, "minItems": 1, "maxItems": 1},
            "labels": {"type": "object", "required": ["__scheme__", "host", "criticality"],
                       "additionalProperties": _STR,
                       "properties": {"__scheme__": {"type": "string",
                                                     "enum": list(scrape_target.SCHEMES)},
                                      "host": _STR,
                                      "criticality": {"type": "string",
                                                      "enum": _ENUM["criticality"]}}}}},
    },
    # GET /api/v1/patch/status and /api/v1/patch/lag (docs/patching.md).
    "PatchStatus": {"type": "object", "required": ["now", "hosts", "totals"], "properties": {
        "now": _STR,
        "totals": {"type": "object", "required": ["hosts", "security", "other"],
                   "properties": {k: {"type": "integer"}
                                  for k in ("hosts", "security", "other")}},
        "hosts": {"type": "array", "items": {
            "type": "object",
            "required": ["host", "security", "other", "oldest_security_first_seen",
                         "oldest_security_age_days"],
            "properties": {"host": _STR, "security": {"type": "integer"},
                           "other": {"type": "integer"},
                           "oldest_security_first_seen": {"type": ["string", "null"]},
                           "oldest_security_age_days": {"type": ["number", "null"]},
                           "updates": {"type": "array", "items": {"type": "object"}}}}}}},
    "PatchLag": {"type": "object", "required": ["since", "now", "by", "lag", "exposure",
                                                "changes"], "properties": {
        "since": _STR, "now": _STR, "by": {"type": "string", "enum": ["month", "host", "change"]},
        "lag": {"type": "array", "items": {
            "type": "object", "required": ["path", "changes", "hosts_applied", "hosts_pending"],
            "properties": {"path": {"type": "string", "enum": ["planned", "emergency"]},
                           "changes": {"type": "integer"},
                           "hosts_applied": {"type": "integer"},
                           "hosts_pending": {"type": "integer"},
                           "mean_days": {"type": ["number", "null"]},
                           "median_days": {"type": ["number", "null"]},
                           "max_days": {"type": ["number", "null"]}}}},
        "exposure": {"type": "array", "items": {
            "type": "object", "required": ["kind", "updates"],
            "properties": {"kind": {"type": "string", "enum": ["security", "other"]},
                           "updates": {"type": "integer"},
                           "mean_days": {"type": ["number", "null"]},
                           "max_days": {"type": ["number", "null"]}}}},
        "changes": {"type": "array", "items": {"type": "object"}}}},
    "GovernanceReport": {"type": "object", "required": [
        "period", "previous", "next", "as_of", "signals", "tickets", "response_times",
        "weekly_volume", "top_components", "pareto_p2", "escalations", "end_of_support",
        "hardware_due", "contracts_due", "patch_lag", "vendor_cases",
        "changes_with_incidents"], "properties": {
        "period": {"type": "object", "required": ["label", "start", "end"]},
        "previous": {"type": "object"}, "next": {"type": "object"}, "as_of": _STR,
        "signals": {"type": "array", "items": {
            "type": "object", "required": ["rule", "number", "sentence", "how", "weight"],
            "properties": {"rule": _STR, "number": {"type": "number"}, "sentence": _STR,
                           "how": _STR, "weight": {"type": "number"}}}},
        "tickets": {"type": "object"}, "response_times": {"type": "object"},
        "weekly_volume": {"type": "array"}, "top_components": {"type": "array"},
        "pareto_p2": {"type": "array"}, "escalations": {"type": "object"},
        "end_of_support": {"type": "array"}, "hardware_due": {"type": "array"},
        "contracts_due": {"type": "array"},
        "patch_lag": {"type": ["object", "null"]},
        "vendor_cases": {"type": ["array", "null"]},
        "changes_with_incidents": {"type": ["array", "null"]}}},
    "HealthReport": {"type": "object", "required": [
        "month", "host", "group", "as_of", "generated_at", "systems", "capacity"],
        "properties": {
            "month": _STR, "host": {"type": ["string", "null"]},
            "group": {"type": ["string", "null"]}, "as_of": _STR, "generated_at": _STR,
            "systems": {"type": "array", "items": {
                "type": "object", "required": [
                    "host", "availability", "down_seconds", "incidents", "end_of_support",
                    "security_updates", "oldest_security_update"],
                "properties": {
                    "host": _STR, "availability": {"type": "number"},
                    "down_seconds": {"type": "integer"}, "incidents": {"type": "object"},
                    "end_of_support": {"type": "array"},
                    "security_updates": {"type": "integer"},
                    "oldest_security_update": {"type": ["string", "null"]}}}},
            "capacity": {"type": "object", "required": ["available"]}}},
    "InventoryResult": {"type": "object", "required": ["status", "host"],
                        "properties": {"status": {"type": "string",
                                                  "enum": ["stored", "duplicate"]},
                                       "host": _STR}},
}


# The schemas of request bodies: collector/payloads/json_body.py refuses NUL anywhere in a body
# (keys too), so `storable` says so in each; tests check every requestBody is listed here.
# Vendor cases (collector/handlers/vendor_cases.py, docs/vendor-cases.md).
_CASE_STATUSES = ["open", "waiting_on_vendor", "waiting_on_us", "resolved", "closed"]
_SEVERITIES = ["critical", "high", "medium", "low"]
_CASE_IDS = {"type": ["array", "null"], "maxItems": 100,
             "items": {"type": "integer", "minimum": 1, "maximum": 2_147_483_647}}
_CASE_HOSTS = {"type": ["array", "null"], "maxItems": 100,
               "items": _text(255, required=True), "description": "known host names"}
_FOLLOW_UP_DAYS = {"type": ["integer", "null"], "minimum": 1, "maximum": 365,
                   "description": "the follow-up interval (default: [vendor_cases] "
                                  "follow_up_days)"}
_NEXT_FOLLOW_UP = {**_BODY_TIME, "description": "when to follow up next (in the future, else "
                                                "409); absent, null, \"\" or Go's zero time: "
                                                "the interval from now"}
_CASE_LINKS = {"tickets": {**_CASE_IDS, "description": "ticket ids"},
               "changes": {**_CASE_IDS, "description": "change ids"},
               "hosts": _CASE_HOSTS}
SCHEMAS |= {
    "VendorCaseOpen": {
        "type": "object", "additionalProperties": False,
        "required": ["vendor", "case_number", "summary"],
        "properties": {
            "vendor": _text(255, required=True), "case_number": _text(255, required=True),
            "summary": _text(2000, required=True),
            "severity": _choice(_SEVERITIES, optional=True),
            "owner": _person(description="who follows it up (default: the actor)"),
            "product": _text(255, description="an end-of-support product id, e.g. "
                                              "postgresql"),
            "contract": _text(255, description="a contract number in the registry"),
            **_CASE_LINKS, "follow_up_days": _FOLLOW_UP_DAYS,
            "next_follow_up": _NEXT_FOLLOW_UP, "note": _text(20000), "actor": ACTOR}},
    "VendorCaseUpdate": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "status": _choice(_CASE_STATUSES, optional=True),
            "severity": _choice(_SEVERITIES, optional=True),
            "owner": _person(), "summary": _text(2000), "contract": _text(255),
            "follow_up_days": _FOLLOW_UP_DAYS, "next_follow_up": _NEXT_FOLLOW_UP,
            "vendor_update": {"type": ["boolean", "null"],
                              "description": "the vendor answered (recorded as its last "
                                             "update)"},
            "note": _text(20000), **_CASE_LINKS, "actor": ACTOR}},
    "VendorCase": {
        "type": "object",
        "required": ["id", "vendor", "case_number", "summary", "severity", "status", "owner",
                     "follow_up_days", "next_follow_up_at", "opened_at", "warnings"],
        "properties": {
            "id": {"type": "integer"}, "vendor": _STR, "case_number": _STR, "summary": _STR,
            "severity": {"type": "string", "enum": _SEVERITIES},
            "status": {"type": "string", "enum": _CASE_STATUSES}, "owner": _STR,
            "product": _NULLABLE_STR, "contract": _NULLABLE_STR,
            "past_end_of_support": {"type": "array", "items": _STR},
            "follow_up_days": {"type": "integer"}, "next_follow_up_at": _TIME,
            "last_vendor_update_at": _TIME, "last_reminded_at": _TIME,
            "reminders": {"type": "integer"}, "opened_by": _STR, "opened_at": _STR,
            "updated_at": _STR, "resolved_at": _TIME, "closed_at": _TIME,
            "tickets": {"type": "array", "items": {"type": "integer"}},
            "changes": {"type": "array", "items": {"type": "integer"}},
            "hosts": {"type": "array", "items": _STR},
            "contract_standing": {"type": ["object", "null"]},
            "warnings": {"type": "array", "items": _STR},
            "timeline": {"type": "array", "items": {"type": "object"}}}},
    "VendorCaseList": {"type": "object", "required": ["cases"], "properties": {
        "cases": {"type": "array", "items": {"$ref": "#/components/schemas/VendorCase"}},
        "next_before": {"type": "integer"}}},
}

REQUEST_BODIES = ("UserReport", "Transition", "Note", "PriorityOverride", "Assignment",
                  "AlertmanagerWebhook", "Event", "InventoryPush", "VendorCaseOpen",
                  "VendorCaseUpdate")
# Changes: their schemas live beside their parser (collector/payloads/changes.py).
SCHEMAS |= change_schemas()
REQUEST_BODIES += CHANGE_BODIES
# Maintenance windows: collector/openapi_maintenance.py.
SCHEMAS |= maintenance_schemas(ACTOR)
REQUEST_BODIES += MAINTENANCE_BODIES
_JSON_VALUE = {"$ref": "#/components/schemas/JsonValue"}


def storable(schema: Any) -> Any:
    """`schema` with the rules every request body shares: no string and no key holds NUL, and
    a field the schema does not name may hold any JSON value that obeys this too."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return schema
    out = dict(schema)
    for key in ("items", "additionalProperties", "then", "else"):
        if isinstance(schema.get(key), dict):
            out[key] = storable(schema[key])
    if "properties" in schema:
        out["properties"] = {name: storable(value)
                             for name, value in schema["properties"].items()}
    for key in ("anyOf", "allOf", "oneOf"):
        if key in schema:
            out[key] = [storable(branch) for branch in schema[key]]
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if "object" in kinds and schema.get("additionalProperties") is not False:
        out.setdefault("propertyNames", {"pattern": NUL_FREE})
        out.setdefault("additionalProperties", _JSON_VALUE)
    if "string" in kinds and not {"pattern", "enum", "const", "format"} & set(schema):
        out["pattern"] = NUL_FREE
    return out
