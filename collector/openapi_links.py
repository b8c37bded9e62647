"""The links of the OpenAPI document (collector/openapi.py): which answer leads to which next
call, and where that call's path parameter comes from (OpenAPI 3.1, Link Object).

A client reads them as the API's workflows: a reported problem (POST /api/v1/tickets) is then
read, acknowledged, noted, resolved and closed by the id in its answer; a change is submitted,
approved, started, completed and reviewed; a maintenance window is read and ended; a vendor
case is updated, noted and closed; an agent's inventory push names the host it stored.
Schemathesis's stateful phase follows them (tests/collector/test_openapi.py), so a step that
the answer before it made possible is tried with a real id, not a random one.
"""

from __future__ import annotations

from typing import Any

# Path parameters taken from the answer (the id of what it returns) or from the request that
# led to it (an answer that does not carry the id: a note's timeline entry).
_ID = {"id": "$response.body#/id"}
_SAME_ID = {"id": "$request.path.id"}
_HOST_NAME = {"name": "$response.body#/host"}

_TICKET = "/api/v1/tickets/{id}"
_HOST = "/api/v1/hosts/{name}"
_CHANGE = "/api/v1/changes/{id}"
_WINDOW = "/api/v1/maintenance/{id}"
_CASE = "/api/v1/vendor-cases/{id}"


def _ops(base: str, kind: str, *names: str) -> dict[str, tuple[str, str]]:
    """Links to operations on one resource: "get" reads it, any other name is the POST of
    that action (base/name); each link is named for what it does, e.g. AcknowledgeTicket."""
    verbs = {"get": "Get", "ack": "Acknowledge", "note": "AddNoteTo", "risk": "OverrideRiskOf",
             "priority": "OverridePriorityOf", "escalation": "GetEscalationOf"}
    out = {}
    for name in names:
        method = "get" if name in ("get", "escalation") else "post"
        path = base if name == "get" else f"{base}/{name}"
        out[verbs.get(name, name.capitalize()) + kind] = (method, path)
    return out


# (method, path, status) of an answer -> (the parameters its links take from it, {link name:
# (method, path) of a next call}). One table: what a client may do next, per answer, as the
# resource's workflow goes (docs/api.md, docs/changes.md, docs/maintenance.md,
# docs/vendor-cases.md); a step the state forbids answers 409, as the document says.
LINKS: dict[tuple[str, str, str], tuple[dict[str, str], dict[str, tuple[str, str]]]] = {
    # Tickets: a user's report is the one way the API opens one; then acknowledged (or
    # given to someone, or re-prioritised, or noted), resolved, closed.
    ("post", "/api/v1/tickets", "201"): (_ID, _ops(_TICKET, "Ticket", "get", "ack", "resolve",
                                                   "note", "priority", "assign")),
    ("get", _TICKET, "200"): (_ID, _ops(_TICKET, "Ticket", "ack", "resolve", "close",
                                        "escalation")),
    ("post", f"{_TICKET}/ack", "200"): (_ID, _ops(_TICKET, "Ticket", "get", "resolve")),
    ("post", f"{_TICKET}/assign", "200"): (_ID, _ops(_TICKET, "Ticket", "get", "ack")),
    ("post", f"{_TICKET}/priority", "200"): (_ID, _ops(_TICKET, "Ticket", "get", "ack")),
    ("post", f"{_TICKET}/note", "201"): (_SAME_ID, _ops(_TICKET, "Ticket", "get", "resolve")),
    ("post", f"{_TICKET}/resolve", "200"): (_ID, _ops(_TICKET, "Ticket", "get", "close")),
    ("post", f"{_TICKET}/close", "200"): (_ID, _ops(_TICKET, "Ticket", "get")),
    # Changes: draft -> submitted -> approved -> in progress -> completed -> reviewed; an
    # emergency change may start before approval, a standard one is approved on submission.
    ("post", "/api/v1/changes", "201"): (_ID, _ops(_CHANGE, "Change", "get", "submit", "start",
                                                   "note", "risk")),
    ("get", _CHANGE, "200"): (_ID, _ops(_CHANGE, "Change", "submit", "approve")),
    ("post", f"{_CHANGE}/risk", "200"): (_ID, _ops(_CHANGE, "Change", "submit")),
    ("post", f"{_CHANGE}/note", "201"): (_SAME_ID, _ops(_CHANGE, "Change", "get")),
    ("post", f"{_CHANGE}/submit", "200"): (_ID, _ops(_CHANGE, "Change", "approve", "reject",
                                                     "start")),
    ("post", f"{_CHANGE}/approve", "200"): (_ID, _ops(_CHANGE, "Change", "start")),
    ("post", f"{_CHANGE}/reject", "200"): (_ID, _ops(_CHANGE, "Change", "get")),
    ("post", f"{_CHANGE}/start", "200"): (_ID, _ops(_CHANGE, "Change", "complete")),
    ("post", f"{_CHANGE}/complete", "200"): (_ID, _ops(_CHANGE, "Change", "review")),
    ("post", f"{_CHANGE}/review", "200"): (_ID, _ops(_CHANGE, "Change", "get")),
    # Maintenance windows: read, ended by hand.
    ("post", "/api/v1/maintenance", "201"): (_ID, _ops(_WINDOW, "MaintenanceWindow", "get",
                                                       "end")),
    ("get", _WINDOW, "200"): (_ID, _ops(_WINDOW, "MaintenanceWindow", "end")),
    ("post", f"{_WINDOW}/end", "200"): (_ID, _ops(_WINDOW, "MaintenanceWindow", "get")),
    # Vendor cases: updated and noted while they wait, then closed (final).
    ("post", "/api/v1/vendor-cases", "201"): (_ID, _ops(_CASE, "VendorCase", "get", "update",
                                                        "note", "close")),
    ("get", _CASE, "200"): (_ID, _ops(_CASE, "VendorCase", "update", "close")),
    ("post", f"{_CASE}/update", "200"): (_ID, _ops(_CASE, "VendorCase", "note", "close")),
    ("post", f"{_CASE}/note", "200"): (_ID, _ops(_CASE, "VendorCase", "get")),
    ("post", f"{_CASE}/close", "200"): (_ID, _ops(_CASE, "VendorCase", "get")),
    # An agent's inventory push: the host it was stored for (a replay too).
    ("post", "/api/v1/inventory", "202"): (_HOST_NAME, {"GetHost": ("get", _HOST)}),
    ("post", "/api/v1/inventory", "200"): (_HOST_NAME, {"GetHost": ("get", _HOST)}),
}


def operation_ref(method: str, path: str) -> str:
    """A JSON pointer to the operation in this document (RFC 6901: ~ and / escaped)."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def add_links(paths: dict[str, Any]) -> None:
    """Put LINKS into the responses of `paths` (the document's, which must hold every source
    answer and every target operation)."""
    for (method, path, status), (parameters, targets) in LINKS.items():
        response = paths[path][method]["responses"][status]
        links = {}
        for name, (target_method, target_path) in targets.items():
            paths[target_path][target_method]  # KeyError: a link to no operation
            links[name] = {"operationRef": operation_ref(target_method, target_path),
                           "parameters": dict(parameters)}
        response["links"] = links
