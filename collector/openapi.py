"""The OpenAPI 3.1 document of the collector's HTTP API (GET /api/v1/openapi.json).

Kept beside the route table (collector/handlers/__init__.py); the tests check that both list
the same operations and fuzz the running service against this document (schemathesis, every
check: what the document allows must be accepted, what it forbids refused). Query parameters
are rendered from the handlers' own declarations (collector/query.py), so they cannot drift.
"""

from __future__ import annotations

from typing import Any

from collector.handlers.actions import LINK_PATH
from collector.handlers.changes import CALENDAR_QUERY, CHANGE_PATH, INCIDENTS_QUERY
from collector.handlers.changes import LIST_QUERY as CHANGES_QUERY
from collector.handlers.hosts import HOST_PATH
from collector.handlers.hosts import LIST_QUERY as HOSTS_QUERY
from collector.handlers.hosts import ONE_QUERY as HOST_QUERY
from collector.handlers.maintenance import LIST_QUERY as MAINTENANCE_QUERY
from collector.handlers.maintenance import WINDOW_PATH
from collector.handlers.oncall import NOTIFICATIONS_QUERY, WHO_QUERY
from collector.handlers.patching import LAG_QUERY as PATCH_LAG_QUERY
from collector.handlers.patching import STATUS_QUERY as PATCH_STATUS_QUERY
from collector.handlers.prometheus import TARGETS_QUERY
from collector.handlers.registry import CONTRACTS_QUERY, EOS_QUERY, HARDWARE_QUERY
from collector.handlers.reports import GOVERNANCE_QUERY, HEALTH_QUERY
from collector.handlers.runbooks import RUNBOOK_PATH
from collector.handlers.tickets import LIST_QUERY, TICKET_PATH
from collector.handlers.vendor_cases import CASE_PATH
from collector.handlers.vendor_cases import LIST_QUERY as CASES_QUERY
from collector.openapi_links import add_links
from collector.openapi_schemas import REQUEST_BODIES, SCHEMAS, storable
from regie import __version__

_STR = {"type": "string"}


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
    "503": {**_error("the database is unavailable (down, restarting, locked): not committed, "
                     "unless the connection broke during the commit itself; retry after "
                     "Retry-After seconds"), "headers": RETRY_AFTER},
    "507": {**_error("the database's disk is full: nothing was written"),
            "headers": RETRY_AFTER},
}
READ_ERRORS = {k: COMMON_ERRORS[k] for k in ("400", "401", "403", "503")}
# Path parameters, rendered from the handlers' declarations (collector/query.py Path).
(TICKET_ID,) = TICKET_PATH.openapi()


(ACTION_TOKEN,) = LINK_PATH.openapi()


# The agent sends its push's key in the body and, as HTTP clients do, in this header.
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header",
    "schema": {"type": "string", "maxLength": 200, "pattern": "^[!-~]([ -~]*[!-~])?$"},
    "description": "when sent, must equal the body's idempotency_key (else 400); visible "
                   "ASCII, as header values are"}
(HOST_NAME,) = HOST_PATH.openapi()
(RUNBOOK_RULE,) = RUNBOOK_PATH.openapi()
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



(CASE_ID,) = CASE_PATH.openapi()
_CASE = "#/components/schemas/VendorCase"
_CASE_CONFLICT = _error("conflicts with the case, the clock or what the collector knows: a "
                        "status the case may not take (a closed case is final), a follow-up "
                        "date not in the future, a linked ticket, change, host or contract "
                        "that does not exist (the reason names the field)")


def _vendor_case_paths() -> dict[str, Any]:
    """/api/v1/vendor-cases (docs/vendor-cases.md)."""
    missing = _error("no such vendor case")

    def action(summary: str, body: str, *, required: bool = True) -> dict[str, Any]:
        return {"post": {"summary": summary, "parameters": [CASE_ID],
                         "requestBody": _body(f"#/components/schemas/{body}",
                                              required=required),
                         "responses": {"200": _json(_CASE, "the case after the change"),
                                       "404": missing, "409": _CASE_CONFLICT,
                                       **COMMON_ERRORS}}}

    return {
        "/api/v1/vendor-cases": {
            "get": {"summary": "Vendor cases, newest first (default: those still waiting on "
                               "someone)", "parameters": CASES_QUERY.openapi(),
                    "responses": {"200": _json("#/components/schemas/VendorCaseList", "cases"),
                                  **READ_ERRORS}},
            "post": {"summary": "Open a vendor case (its follow-up reminds its owner)",
                     "requestBody": _body("#/components/schemas/VendorCaseOpen"),
                     "responses": {"201": _json(_CASE, "opened"),
                                   "409": _error("the vendor's case number is already a "
                                                 "case, the follow-up date is not in the "
                                                 "future, or a linked ticket, change, host or "
                                                 "contract does not exist (the reason names "
                                                 "the field)"), **COMMON_ERRORS}}},
        "/api/v1/vendor-cases/{id}": {"get": {
            "summary": "One vendor case with its timeline", "parameters": [CASE_ID],
            "responses": {"200": _json(_CASE, "the case"),
                          "404": _error("no such vendor case"), **READ_ERRORS}}},
        "/api/v1/vendor-cases/{id}/update": action(
            "Update a case: status, severity, owner, follow-up, the vendor answered, links",
            "VendorCaseUpdate"),
        "/api/v1/vendor-cases/{id}/note": action("Add a note (a follow-up: the interval "
                                                 "starts again)", "Note"),
        "/api/v1/vendor-cases/{id}/close": action("Close the case", "Transition",
                                                  required=False),
    }


(CHANGE_ID,) = CHANGE_PATH.openapi()
_CHANGE = "#/components/schemas/Change"


def _change_paths() -> dict[str, Any]:
    """/api/v1/changes (docs/changes.md)."""
    refused = _error("the change's state or type does not allow it (the reason says what "
                     "it can do), or a normal change inside a freeze without an override")
    forbidden = _error("the token's role may not do this, or the actor is the change's "
                       "author (a second person decides)")

    def move(summary: str, body: str, *, required: bool = False) -> dict[str, Any]:
        return {"post": {"summary": summary, "parameters": [CHANGE_ID],
                         "requestBody": _body(f"#/components/schemas/{body}",
                                              required=required),
                         "responses": {"200": _json(_CHANGE, "the change after the move"),
                                       "404": _error("no such change"), "409": refused,
                                       **COMMON_ERRORS, "403": forbidden}}}

    return {
        "/api/v1/changes": {
            "get": {"summary": "Changes, newest first", "parameters": CHANGES_QUERY.openapi(),
                    "responses": {"200": _json("#/components/schemas/ChangeList", "changes"),
                                  **READ_ERRORS}},
            "post": {"summary": "Create a change (a draft): hosts resolved, risk scored, "
                                "conflicts shown",
                     "requestBody": _body("#/components/schemas/ChangeDraft"),
                     "responses": {"201": _json(_CHANGE, "created"), **COMMON_ERRORS}}},
        "/api/v1/changes/calendar": {"get": {
            "summary": "The change calendar: changes holding time in a range, with conflicts, "
                       "and the freezes", "parameters": CALENDAR_QUERY.openapi(),
            "responses": {"200": _json("#/components/schemas/ChangeCalendar", "the calendar"),
                          **READ_ERRORS}}},
        "/api/v1/changes/calendar.ics": {"get": {
            "summary": "The change calendar as iCalendar (RFC 5545)",
            "parameters": CALENDAR_QUERY.openapi(),
            "responses": {"200": {"description": "iCalendar",
                                  "content": {"text/calendar": {"schema": _STR}}},
                          **READ_ERRORS}}},
        "/api/v1/changes/incidents": {"get": {
            "summary": "Failed or rolled-back changes and the incidents opened on their hosts "
                       "during and after their window", "parameters": INCIDENTS_QUERY.openapi(),
            "responses": {"200": _json("#/components/schemas/ChangeIncidents", "the report"),
                          **READ_ERRORS}}},
        "/api/v1/changes/{id}": {"get": {
            "summary": "One change with its timeline and conflicts", "parameters": [CHANGE_ID],
            "responses": {"200": _json(_CHANGE, "the change"),
                          "404": _error("no such change"), **READ_ERRORS}}},
        "/api/v1/changes/{id}/submit": move("Submit a draft (a standard change is approved "
                                            "with it)", "ChangeSubmit"),
        "/api/v1/changes/{id}/approve": move("Approve (change_manager or admin, not the "
                                             "author)", "ChangeApprove"),
        "/api/v1/changes/{id}/reject": move("Reject, with a reason", "ChangeReject",
                                            required=True),
        "/api/v1/changes/{id}/start": move("Start the work (an emergency change may start "
                                           "before approval)", "ChangeStart"),
        "/api/v1/changes/{id}/complete": move("Complete, with the outcome", "ChangeComplete",
                                              required=True),
        "/api/v1/changes/{id}/review": move("Review a completed change (required for "
                                            "emergency changes)", "ChangeReview"),
        "/api/v1/changes/{id}/note": {"post": {
            "summary": "Add a note to the change's timeline", "parameters": [CHANGE_ID],
            "requestBody": _body("#/components/schemas/Note"),
            "responses": {"201": _json("#/components/schemas/TimelineEntry", "noted"),
                          "404": _error("no such change"), **COMMON_ERRORS}}},
        "/api/v1/changes/{id}/risk": {"post": {
            "summary": "Override the risk level, with a reason (recorded)",
            "parameters": [CHANGE_ID],
            "requestBody": _body("#/components/schemas/RiskOverride"),
            "responses": {"200": _json(_CHANGE, "the change"),
                          "404": _error("no such change"), **COMMON_ERRORS,
                          "403": forbidden}}},
    }


(WINDOW_ID,) = WINDOW_PATH.openapi()
_WINDOW = "#/components/schemas/MaintenanceWindow"


def _maintenance_paths() -> dict[str, Any]:
    """/api/v1/maintenance (docs/maintenance.md)."""
    cannot = _error("a window that cannot be: end not after start, unknown time zone, a "
                    "recurrence that never occurs, wholly in the past, a bad matcher, no "
                    "scope (the reason names the field); nothing is stored")
    return {
        "/api/v1/maintenance": {
            "get": {"summary": "Maintenance windows (not ended by hand; all=true: all), and "
                               "the occurrences holding alerts now, changes' windows too",
                    "parameters": MAINTENANCE_QUERY.openapi(),
                    "responses": {"200": _json("#/components/schemas/MaintenanceList",
                                               "the windows"), **READ_ERRORS}},
            "post": {"summary": "Add a maintenance window: alerts on its scope are recorded "
                                "but do not page while it runs",
                     "requestBody": _body("#/components/schemas/MaintenanceWindowAdd"),
                     "responses": {"201": _json(_WINDOW, "added"), "409": cannot,
                                   **COMMON_ERRORS}}},
        "/api/v1/maintenance/{id}": {"get": {
            "summary": "One maintenance window, whether it runs now and its next occurrence",
            "parameters": [WINDOW_ID],
            "responses": {"200": _json(_WINDOW, "the window"),
                          "404": _error("no such maintenance window"), **READ_ERRORS}}},
        "/api/v1/maintenance/{id}/end": {"post": {
            "summary": "End a window now: what it held and still fires pages now",
            "parameters": [WINDOW_ID],
            "requestBody": _body("#/components/schemas/MaintenanceEnd", required=False),
            "responses": {"200": _json(_WINDOW, "the window, ended"),
                          "404": _error("no such maintenance window"), **COMMON_ERRORS}}},
    }


def document() -> dict[str, Any]:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Regie collector API", "version": __version__,
                 "description": "One ticket queue for monitoring and users."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {name: storable(schema) if name in REQUEST_BODIES else schema
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
            **_vendor_case_paths(),
            **_maintenance_paths(),
            **_change_paths(),
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
            "/api/v1/patch/status": {"get": {
                "summary": "Pending updates per host, security ones apart, with the oldest "
                           "pending security update's first-seen time (docs/patching.md)",
                "parameters": PATCH_STATUS_QUERY.openapi(),
                "responses": {"200": _json("#/components/schemas/PatchStatus", "the hosts"),
                              **READ_ERRORS}}},
            "/api/v1/patch/lag": {"get": {
                "summary": "Patch lag (installed minus planned, per host and change, "
                           "emergency apart) and exposure of updates tied to no change "
                           "(installed minus first seen pending, security apart)",
                "parameters": PATCH_LAG_QUERY.openapi(),
                "responses": {"200": _json("#/components/schemas/PatchLag", "the report"),
                              **READ_ERRORS}}},
            "/api/v1/reports/governance": {"get": {
                "summary": "The governance review's data for a quarter (or from/to): signals "
                           "in sentences with their numbers and rules, response times, volume, "
                           "end of support, contracts due, patch lag, vendor cases, changes "
                           "that caused incidents (docs/reports.md)",
                "parameters": GOVERNANCE_QUERY.openapi(),
                "responses": {"200": _json("#/components/schemas/GovernanceReport",
                                           "the report"), **READ_ERRORS}}},
            "/api/v1/reports/health": {"get": {
                "summary": "The monthly health report's data per system (a host glob, or a "
                           "group: a label the agents push): availability, incidents by "
                           "priority, end of support, pending security updates; its capacity "
                           "section says it is missing (the API asks no Prometheus: regie "
                           "report health --prometheus URL does) (docs/reports.md)",
                "parameters": HEALTH_QUERY.openapi(),
                "responses": {"200": _json("#/components/schemas/HealthReport",
                                           "the report"), **READ_ERRORS}}},
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
            "/runbooks/": {"get": {
                "summary": "The bundled runbooks: every default rule's page, with what its "
                           "alert means (public: Regie's own documentation)",
                "security": [],
                "responses": {"200": {"description": "the index",
                                      "content": {"text/html": {"schema": _STR}}},
                              "400": _error("a query parameter (none is known)")}}},
            "/ui/runbook.css": {"get": {
                "summary": "The runbook pages' stylesheet", "security": [],
                "responses": {"200": {"description": "CSS",
                                      "content": {"text/css": {"schema": _STR}}},
                              "400": _error("a query parameter (none is known)")}}},
            "/runbooks/{rule}": {"get": {
                "summary": "A rule's runbook (docs/runbooks/<rule>.md as HTML): what the alert "
                           "means, how to confirm it, what to do, when to escalate. The link "
                           "tickets and notifications carry (public)",
                "security": [], "parameters": [RUNBOOK_RULE],
                "responses": {"200": {"description": "the page",
                                      "content": {"text/html": {"schema": _STR}}},
                              "400": _page_error("not a rule name, or a query parameter"),
                              "404": _page_error("no runbook for this rule")}}},
            "/api/v1/hosts": {"get": {
                "summary": "Hosts by name: last inventory push, OS, end-of-support standing, "
                           "open tickets",
                "parameters": HOSTS_QUERY.openapi(),
                "responses": {"200": _json("#/components/schemas/HostList", "hosts"),
                              **READ_ERRORS}}},
            "/api/v1/hosts/{name}": {"get": {
                "summary": "One host: its OS release, end-of-support items, open tickets",
                "parameters": [HOST_NAME, *HOST_QUERY.openapi()],
                "responses": {"200": _json("#/components/schemas/Host", "the host"),
                              "404": _error("no such host"), **READ_ERRORS}}},
            "/api/v1/prometheus/targets": {"get": {
                "summary": "The agents as Prometheus targets (HTTP service discovery): each "
                           "agent's announced address, with host, criticality and its labels",
                "parameters": TARGETS_QUERY.openapi(),
                "responses": {"200": _json("#/components/schemas/PrometheusTargets",
                                           "target groups (empty: no agent announced itself)"),
                              **READ_ERRORS}}},
        },
    }
    # Every operation can meet a database that is down (the token lookup alone asks it), and
    # every POST one that is full: the error middleware answers them alike (collector/app.py).
    # And every path parameter is parsed as declared (collector/query.py Path): 400 naming it.
    for ops in doc["paths"].values():
        for method, op in ops.items():
            op["responses"].setdefault("503", COMMON_ERRORS["503"])
            if any(param.get("in") == "path" for param in op.get("parameters", ())):
                op["responses"].setdefault("400", COMMON_ERRORS["400"])
            if method == "post":
                op["responses"].setdefault("507", COMMON_ERRORS["507"])
    add_links(doc["paths"])
    return doc
