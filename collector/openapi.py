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
from regie import __version__

_STR = {"type": "string"}
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


COMMON_ERRORS = {
    "400": _error("malformed request: the reason says what and where"),
    "401": _error("no valid bearer token"),
    "403": _error("the token's role may not do this"),
    "413": _error("body larger than server.max_body_bytes"),
    "415": _error("Content-Type is not application/json"),
}
READ_ERRORS = {k: COMMON_ERRORS[k] for k in ("400", "401", "403")}
TICKET_ID = {"name": "id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}}


ACTION_TOKEN = {"name": "token", "in": "path", "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,512}$"}}


# Who acts, for a token that names no person (the CLI's --as); a person's token acts as them.
ACTOR = {"type": "string", "minLength": 1, "maxLength": 200,
         "description": "the person acting, when the token names none (else 403 unless the "
                        "same person)"}
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
            "summary": {"type": "string", "minLength": 1, "maxLength": 500},
            "description": {"type": "string", "maxLength": 20000},
            "reporter": {"type": "string", "maxLength": 200},
            "host": {"type": "string", "maxLength": 255},
            "service": {"type": "string", "maxLength": 255},
            "component": {"type": "string", "maxLength": 255},
            "impact": {"type": "string", "enum": _ENUM["criticality"]},
            "urgency": {"type": "string", "enum": _ENUM["urgency"]},
        },
    },
    "Transition": {"type": "object", "additionalProperties": False,
                   "properties": {"note": {"type": "string", "maxLength": 20000},
                                  "actor": ACTOR}},
    "Acted": {"allOf": [{"$ref": "#/components/schemas/Ticket"}, {
        "type": "object", "required": ["already", "message"],
        "properties": {
            "already": {"type": "boolean", "description": "the ticket was in that state "
                                                          "already: only the note was added"},
            "message": {"type": "string", "description": "#42 acknowledged by alice at "
                                                         "2026-12-07 03:12 UTC"}}}]},
    "Note": {"type": "object", "additionalProperties": False, "required": ["text"],
             "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 20000},
                            "actor": ACTOR}},
    "PriorityOverride": {
        "type": "object", "additionalProperties": False, "required": ["priority", "reason"],
        "properties": {"priority": {"type": "string", "enum": _ENUM["priority"]},
                       "reason": {"type": "string", "minLength": 1, "maxLength": 2000},
                       "actor": ACTOR}},
    "Assignment": {
        "type": "object", "additionalProperties": False, "required": ["assignee"],
        "properties": {"assignee": {"type": "string", "minLength": 1, "maxLength": 200},
                       "actor": ACTOR}},
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
        "description": "Alertmanager webhook payload, version 4",
        "properties": {
            "version": {"type": "string", "enum": ["4"]},
            "status": {"type": "string", "enum": ["firing", "resolved"]},
            "receiver": _STR,
            "alerts": {"type": "array", "maxItems": 10000, "items": {
                "type": "object", "required": ["status", "fingerprint"],
                "properties": {
                    "status": {"type": "string", "enum": ["firing", "resolved"]},
                    "labels": {"type": "object", "additionalProperties": _STR},
                    "annotations": {"type": "object", "additionalProperties": _STR},
                    "startsAt": {"type": "string", "format": "date-time"},
                    "endsAt": {"type": "string", "format": "date-time"},
                    "generatorURL": _STR,
                    "fingerprint": {"type": "string", "minLength": 1, "maxLength": 128},
                }}},
        },
    },
    "AlertmanagerResult": {"type": "object", "required": ["status", "alerts"],
                           "properties": {"status": _STR, "alerts": {"type": "integer"}}},
    "Event": {
        "type": "object", "required": ["routing_key", "event_action"],
        "description": "PagerDuty Events API v2 event",
        "properties": {
            "routing_key": {"type": "string", "maxLength": 200},
            "event_action": {"type": "string", "enum": ["trigger", "acknowledge", "resolve"]},
            "dedup_key": {"type": "string", "maxLength": 255},
            "payload": {"type": "object", "properties": {
                "summary": {"type": "string", "maxLength": 1024},
                "source": {"type": "string", "maxLength": 255},
                "severity": {"type": "string", "enum": ["critical", "error", "warning", "info"]},
                "timestamp": {"type": "string", "format": "date-time"},
                "component": _STR, "group": _STR, "class": _STR,
                "custom_details": {}}},
        },
    },
    "EventResult": {"type": "object", "required": ["status", "message"],
                    "properties": {"status": _STR, "message": _STR, "dedup_key": _STR,
                                   "errors": {"type": "array", "items": _STR},
                                   "error": _STR}},
    "InventoryPush": {
        "type": "object", "required": ["idempotency_key", "document"],
        "properties": {
            "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 200},
            "document": {"type": "object", "required": ["schema", "host"], "properties": {
                "schema": {"type": "string", "enum": ["regie.inventory/v1"]},
                "host": {"type": "object", "required": ["hostname"],
                         "properties": {"hostname": {"type": "string", "minLength": 1}}},
                "observations": {"type": "array", "items": {
                    "type": "object", "required": ["source", "raw"],
                    "properties": {"source": _STR, "raw": {"type": "object"}}}}}},
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


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Regie collector API", "version": __version__,
                 "description": "One ticket queue for monitoring and users."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "security": [{"bearer": []}],
        "paths": {
            "/healthz": {"get": {
                "summary": "Liveness and readiness (the database answers)", "security": [],
                "responses": {"200": {"description": "ready"},
                              "503": {"description": "the database does not answer"}}}},
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
                "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": _STR}],
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
