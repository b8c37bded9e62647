"""The OpenAPI 3.1 document of the collector's HTTP API (GET /api/v1/openapi.json).

Kept beside the route table (collector/handlers/__init__.py); the tests check that both list
the same operations and fuzz the running service against this document (schemathesis, every
check: what the document allows must be accepted, what it forbids refused). Query parameters
are rendered from the handlers' own declarations (collector/query.py), so they cannot drift.
"""

from __future__ import annotations

from typing import Any

from collector.handlers.hosts import LIST_QUERY as HOSTS_QUERY
from collector.handlers.oncall import NOTIFICATIONS_QUERY, WHO_QUERY
from collector.handlers.registry import CONTRACTS_QUERY, EOS_QUERY, HARDWARE_QUERY
from collector.handlers.tickets import LIST_QUERY
from collector.payloads.json_body import MAX_DEPTH
from collector.query import NUL_FREE
from regie import __version__

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


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(schema_ref: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


def _body(schema_ref: str, *, required: bool = True) -> dict[str, Any]:
    return {"required": required,
            "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


RETRY_AFTER = {"Retry-After": {"description": "seconds after which a retry may succeed",
                               "schema": {"type": "integer", "minimum": 1}}}
COMMON_ERRORS = {
    "400": _error("malformed request: the reason says what and where"),
    "401": _error("no valid bearer token"),
    "403": _error("the token's role may not do this"),
    "413": _error("body larger than server.max_body_bytes"),
    "415": _error("Content-Type is not application/json"),
    "503": {**_error("the database is unavailable (down, restarting, locked): nothing was "
                     "written; retry after Retry-After seconds"), "headers": RETRY_AFTER},
    "507": {**_error("the database's disk is full: nothing was written"),
            "headers": RETRY_AFTER},
}
READ_ERRORS = {k: COMMON_ERRORS[k] for k in ("400", "401", "403", "503")}
TICKET_ID = {"name": "id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}}


ACTION_TOKEN = {"name": "token", "in": "path", "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,512}$"}}


# Who acts, for a token that names no person (the CLI's --as); a person's token acts as them.
ACTOR = _text(200, description="the person acting, when the token names none (else 403 unless "
                               "the same person)")
# The agent sends its push's key in the body and, as HTTP clients do, in this header.
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header",
    "schema": {"type": "string", "maxLength": 200, "pattern": "^[!-~]([ -~]*[!-~])?$"},
    "description": "when sent, must equal the body's idempotency_key (else 400); visible "
                   "ASCII, as header values are"}
HOST_NAME = {"name": "name", "in": "path", "required": True,
             "schema": {"type": "string", "pattern": "^[^/]{1,255}$"}}
HTML_OR_JSON_ERROR = {"text/html": {"schema": _STR},
                      "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _page_error(description: str) -> dict[str, Any]:
    """A refusal on a page a person opens: HTML for a browser, JSON for a program."""
    return {"description": description, "content": HTML_OR_JSON_ERROR}


def _transition(summary: str) -> dict[str, Any]:
    return {"post": {
        "summary": summary,
        "parameters": [TICKET_ID],
        "requestBody": _body("#/components/schemas/Transition", required=False),
        "responses": {"200": _json("#/components/schemas/Acted",
                                   "the ticket after the change, or as it already was"),
                      "404": _error("no such ticket"),
                      "409": _error("not possible from the ticket's status"),
                      **COMMON_ERRORS},
    }}


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
            "reporter": _text(200, description="default: the token's name"),
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
        "properties": {"assignee": _text(200, required=True), "actor": ACTOR}},
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
                    "generatorURL": _text(4096),
                    "fingerprint": _text(128, required=True),
                }}},
        },
    },
    # Labels and annotations (collector/payloads/fields.string_map).
    "StringMap": {"type": "object", "maxProperties": 200,
                  "propertyNames": {"maxLength": 256, "pattern": NUL_FREE},
                  "additionalProperties": {"type": "string", "maxLength": 4096,
                                           "pattern": NUL_FREE}},
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
                                   "raw": {"type": "object"}}}}}},
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
            "id": {"type": "integer"}, "ticket_id": {"type": "integer"}, "channel": _STR,
            "recipient": _NULLABLE_STR, "kind": _STR,
            "status": {"type": "string", "enum": ["pending", "delivered", "dead"]},
            "attempts": {"type": "integer"}, "next_attempt_at": _STR, "created_at": _STR,
            "finished_at": _TIME, "last_error": _NULLABLE_STR}}},
        "next_before": {"type": "integer"}}},
    "EosReport": {"type": "object", "required": ["today", "until", "within"],
                  "properties": {"today": _STR, "until": _STR, "within": _STR,
                                 "items": {"type": "array", "items": {"type": "object"}},
                                 "groups": {"type": "array", "items": {"type": "object"}}}},
    "InventoryResult": {"type": "object", "required": ["status", "host"],
                        "properties": {"status": {"type": "string",
                                                  "enum": ["stored", "duplicate"]},
                                       "host": _STR}},
}


# The schemas of request bodies: collector/payloads/json_body.py refuses NUL anywhere in a body
# (keys too), so `_storable` says so in each; tests check every requestBody is listed here.
REQUEST_BODIES = ("UserReport", "Transition", "Note", "PriorityOverride", "Assignment",
                  "AlertmanagerWebhook", "Event", "InventoryPush")
_JSON_VALUE = {"$ref": "#/components/schemas/JsonValue"}


def _storable(schema: Any) -> Any:
    """`schema` with the rules every request body shares: no string and no key holds NUL, and
    a field the schema does not name may hold any JSON value that obeys this too."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return schema
    out = dict(schema)
    for key in ("items", "additionalProperties", "then", "else"):
        if isinstance(schema.get(key), dict):
            out[key] = _storable(schema[key])
    if "properties" in schema:
        out["properties"] = {name: _storable(value)
                             for name, value in schema["properties"].items()}
    for key in ("anyOf", "allOf", "oneOf"):
        if key in schema:
            out[key] = [_storable(branch) for branch in schema[key]]
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if "object" in kinds and schema.get("additionalProperties") is not False:
        out.setdefault("propertyNames", {"pattern": NUL_FREE})
        out.setdefault("additionalProperties", _JSON_VALUE)
    if "string" in kinds and not {"pattern", "enum", "const", "format"} & set(schema):
        out["pattern"] = NUL_FREE
    return out


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Regie collector API", "version": __version__,
                 "description": "One ticket queue for monitoring and users."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {name: _storable(schema) if name in REQUEST_BODIES else schema
                        for name, schema in SCHEMAS.items()},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/healthz": {"get": {
                "summary": "Liveness and readiness (the database answers and, on SQLite, "
                           "takes a write)", "security": [],
                "responses": {"200": _json("#/components/schemas/Health", "ready"),
                              "503": {**_json("#/components/schemas/Health",
                                              "the database does not answer, or cannot "
                                              "write (a full disk)"),
                                      "headers": RETRY_AFTER}}}},
            "/metrics": {"get": {
                "summary": "Prometheus metrics of the ticket queue",
                "responses": {"200": {"description": "Prometheus text format",
                                      "content": {"text/plain": {"schema": _STR}}},
                              **READ_ERRORS}}},
            "/api/v1/openapi.json": {"get": {
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.1",
                                      "content": {"application/json": {
                                          "schema": {"type": "object"}}}},
                              **READ_ERRORS}}},
            "/api/v1/alertmanager": {"post": {
                "summary": "Alertmanager webhook (v4): one signal per alert",
                "requestBody": _body("#/components/schemas/AlertmanagerWebhook"),
                "responses": {"200": _json("#/components/schemas/AlertmanagerResult",
                                           "committed"), **COMMON_ERRORS}}},
            "/api/v1/events": {"post": {
                "summary": "PagerDuty Events API v2 (routing_key = an ingest token)",
                "security": [{"bearer": []}, {}],
                "requestBody": _body("#/components/schemas/Event"),
                "responses": {
                    "202": _json("#/components/schemas/EventResult", "committed"),
                    "400": _json("#/components/schemas/EventResult", "invalid event"),
                    "401": _json("#/components/schemas/EventResult", "unknown routing_key"),
                    "403": _json("#/components/schemas/EventResult", "role may not ingest"),
                    "413": COMMON_ERRORS["413"], "415": COMMON_ERRORS["415"]}}},
            "/api/v1/inventory": {"post": {
                "summary": "An agent's inventory push (idempotent on its key)",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": _body("#/components/schemas/InventoryPush"),
                "responses": {
                    "202": _json("#/components/schemas/InventoryResult", "stored"),
                    "200": _json("#/components/schemas/InventoryResult", "already stored"),
                    **COMMON_ERRORS}}},
            "/api/v1/tickets": {
                "get": {"summary": "List tickets, newest first", "parameters": LIST_QUERY.openapi(),
                        "responses": {"200": _json("#/components/schemas/TicketList",
                                                   "tickets"), **READ_ERRORS}},
                "post": {"summary": "Report a problem (a user ticket)",
                         "requestBody": _body("#/components/schemas/UserReport"),
                         "responses": {"201": _json("#/components/schemas/Ticket", "created"),
                                       **COMMON_ERRORS}},
            },
            "/api/v1/tickets/{id}": {"get": {
                "summary": "One ticket with its timeline and attached alerts",
                "parameters": [TICKET_ID],
                "responses": {"200": _json("#/components/schemas/Ticket", "the ticket"),
                              "404": _error("no such ticket"), **READ_ERRORS}}},
            "/api/v1/tickets/{id}/ack": _transition("Acknowledge"),
            "/api/v1/tickets/{id}/resolve": _transition("Resolve"),
            "/api/v1/tickets/{id}/close": _transition("Close a resolved ticket"),
            "/api/v1/tickets/{id}/note": {"post": {
                "summary": "Add a note to the timeline", "parameters": [TICKET_ID],
                "requestBody": _body("#/components/schemas/Note"),
                "responses": {"201": _json("#/components/schemas/TimelineEntry", "noted"),
                              "404": _error("no such ticket"), **COMMON_ERRORS}}},
            "/api/v1/tickets/{id}/priority": {"post": {
                "summary": "Override the priority, with a reason that is recorded",
                "parameters": [TICKET_ID],
                "requestBody": _body("#/components/schemas/PriorityOverride"),
                "responses": {"200": _json("#/components/schemas/Ticket", "the ticket"),
                              "404": _error("no such ticket"), **COMMON_ERRORS}}},
            "/api/v1/tickets/{id}/assign": {"post": {
                "summary": "Give the ticket to a person (recorded on the timeline)",
                "parameters": [TICKET_ID],
                "requestBody": _body("#/components/schemas/Assignment"),
                "responses": {"200": _json("#/components/schemas/Ticket", "the ticket"),
                              "404": _error("no such ticket"),
                              "409": _error("the ticket is closed"), **COMMON_ERRORS}}},
            "/api/v1/tickets/{id}/escalation": {"get": {
                "summary": "The ticket's escalation: policy snapshot, next step, due time",
                "parameters": [TICKET_ID],
                "responses": {"200": {"description": "the escalation",
                                      "content": {"application/json": {
                                          "schema": {"type": "object"}}}},
                              "404": _error("no escalation (or on-call not configured)"),
                              **READ_ERRORS}}},
            "/api/v1/oncall": {"get": {
                "summary": "Who is on call (from the same schedule the escalation uses)",
                "parameters": WHO_QUERY.openapi(),
                "responses": {"200": _json("#/components/schemas/OnCall", "the shifts"),
                              "404": _error("on-call not configured, or no such team"),
                              **READ_ERRORS}}},
            "/api/v1/notifications": {"get": {
                "summary": "The notification queue, newest first (status=dead: dead letters)",
                "parameters": NOTIFICATIONS_QUERY.openapi(),
                "responses": {"200": _json("#/components/schemas/NotificationList",
                                           "notifications"),
                              "404": _error("on-call not configured"), **READ_ERRORS}}},
            "/api/v1/registry/eos": {"get": {
                "summary": "Software and hardware past or reaching end of support, soonest "
                           "first (the date that applies: security, then extended support)",
                "parameters": EOS_QUERY.openapi(),
                "responses": {"200": _json("#/components/schemas/EosReport", "the report"),
                              **READ_ERRORS}}},
            "/api/v1/registry/contracts": {"get": {
                "summary": "Warranty and support contracts ending within the horizon",
                "parameters": CONTRACTS_QUERY.openapi(),
                "responses": {"200": _json("#/components/schemas/EosReport", "the report"),
                              **READ_ERRORS}}},
            "/api/v1/registry/hardware": {"get": {
                "summary": "Assets whose model is past or reaching end of support (EOSL)",
                "parameters": HARDWARE_QUERY.openapi(),
                "responses": {"200": _json("#/components/schemas/EosReport", "the report"),
                              **READ_ERRORS}}},
            "/api/v1/actions/{token}": {
                "get": {"summary": "A one-click link: a page with a button that POSTs, or, "
                                   "once used, what was done, by whom and when",
                        "security": [], "parameters": [ACTION_TOKEN],
                        "responses": {"200": {"description": "the page",
                                              "content": {"text/html": {"schema": _STR}}},
                                      "403": _page_error("link invalid or expired"),
                                      "404": _page_error("links off, or no such ticket")}},
                "post": {"summary": "Use a one-click link (once): acknowledge or resolve. A "
                                    "browser (form post or Accept: text/html) gets a page",
                         "security": [], "parameters": [ACTION_TOKEN],
                         "responses": {"200": {
                                           "description": "the ticket after the change (or "
                                                          "as it already was)",
                                           "content": {
                                               "application/json": {"schema": {
                                                   "$ref": "#/components/schemas/Acted"}},
                                               "text/html": {"schema": _STR}}},
                                       "403": _page_error("link invalid or expired"),
                                       "404": _page_error("links off, or no such ticket"),
                                       "409": _page_error("link used already, or not possible "
                                                          "from the ticket's status")}},
            },
            "/ui/tickets/{id}": {"get": {
                "summary": "The read-only ticket page a notification links to (key: a signed "
                           "view link, the credential)",
                "security": [],
                "parameters": [TICKET_ID, {"name": "key", "in": "query", "required": True,
                                           "schema": {"type": "string", "maxLength": 320},
                                           "description": "the signed view token"}],
                "responses": {"200": {"description": "the page",
                                      "content": {"text/html": {"schema": _STR}}},
                              "400": _page_error("an unknown query parameter"),
                              "403": _page_error("link invalid, expired or for another "
                                                 "ticket"),
                              "404": _page_error("links off, or no such ticket")}}},
            "/api/v1/hosts": {"get": {
                "summary": "Hosts by name: last inventory push, OS, end-of-support standing, "
                           "open tickets",
                "parameters": HOSTS_QUERY.openapi(),
                "responses": {"200": _json("#/components/schemas/HostList", "hosts"),
                              **READ_ERRORS}}},
            "/api/v1/hosts/{name}": {"get": {
                "summary": "One host: its OS release, end-of-support items, open tickets",
                "parameters": [HOST_NAME],
                "responses": {"200": _json("#/components/schemas/Host", "the host"),
                              "404": _error("no such host"), **READ_ERRORS}}},
        },
    }
