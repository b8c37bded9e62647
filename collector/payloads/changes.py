"""Change requests (POST /api/v1/changes and the moves) -> the change desk's inputs, and the
JSON Schemas that state the same rules in the OpenAPI document (collector/openapi.py).

What a schema cannot state (the end after the start, hosts the collector knows, tickets that
exist, a window of at most `MAX_WINDOW_DAYS`) the change desk refuses with a reason naming the
field (collector/change_desk.py `BadChange`, 400).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from alerting.changes import Action, ChangeType, Outcome, RiskLevel
from collector.change_desk import BadChange, Draft
from collector.payloads.fields import BadPayload, choice, mapping, no_unknown, string
from collector.query import MAX_ID, NUL_FREE, YEAR_PATTERN, Time
from collector.store.changes import Package
from regie.inputs import time_zones

MAX_HOSTS = 500
MAX_SERVICES = 100
MAX_TICKETS = 100
MAX_PACKAGES = 2000
# A change's planned window: long enough for a migration weekend, short enough that the
# on-call schedule can be walked for gaps in it.
MAX_WINDOW_DAYS = 31
TEAM_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_TEAM = re.compile(TEAM_PATTERN)
URL_PATTERN = "^https?://[^\\u0000\\s]+$"
_URL = re.compile(r"https?://[^\x00\s]+")

CREATE_FIELDS = {"type", "summary", "hosts", "services", "planned_start", "planned_end",
                 "timezone", "team", "risk_assessment", "implementation_plan",
                 "rollback_plan", "documentation_url", "tickets", "packages"}

# Each move's body: the fields it takes and those it requires.
MOVE_FIELDS: dict[Action, tuple[set[str], set[str]]] = {
    Action.SUBMIT: (set(), set()),
    Action.APPROVE: ({"reason", "freeze_override"}, set()),
    Action.REJECT: ({"reason"}, {"reason"}),
    Action.START: (set(), set()),
    Action.COMPLETE: ({"outcome", "reason"}, {"outcome"}),
    Action.REVIEW: ({"reason"}, set()),
}


def _moment(value: Any, path: str) -> datetime:
    if value is None:
        raise BadPayload(f"{path}: is required")
    if not isinstance(value, str):
        raise BadPayload(f"{path}: must be an RFC 3339 time string")
    return Time(name=path).parse(value)


def _strings(value: Any, path: str, *, max_items: int, max_length: int = 255) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadPayload(f"{path}: must be an array of strings")
    if len(value) > max_items:
        raise BadPayload(f"{path}: more than {max_items} items")
    out = []
    for index, item in enumerate(value):
        text = string(item, f"{path}[{index}]", max_length=max_length)
        out.append(text.strip())
    return tuple(dict.fromkeys(out))


def _tickets(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_TICKETS:
        raise BadPayload(f"tickets: must be an array of at most {MAX_TICKETS} ticket ids")
    out = []
    for index, item in enumerate(value):
        if type(item) is not int or not 1 <= item <= MAX_ID:
            raise BadPayload(f"tickets[{index}]: must be a ticket id (1 to {MAX_ID})")
        out.append(item)
    return tuple(dict.fromkeys(out))


def _packages(value: Any) -> tuple[Package, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_PACKAGES:
        raise BadPayload(f"packages: must be an array of at most {MAX_PACKAGES} packages")
    out = []
    for index, item in enumerate(value):
        where = f"packages[{index}]"
        entry = mapping(item, where)
        no_unknown(entry, {"name", "version"}, where)
        out.append(Package(string(entry.get("name"), f"{where}.name", max_length=255),
                           string(entry.get("version"), f"{where}.version", max_length=255,
                                  required=False)))
    return tuple(out)


def parse_draft(body: Any) -> Draft:
    """A new change, or BadPayload / BadChange naming the field."""
    data = mapping(body, "body")
    no_unknown(data, CREATE_FIELDS, "")
    change_type = choice(data.get("type"), ChangeType, "type")
    summary = string(data.get("summary"), "summary", max_length=500)
    start = _moment(data.get("planned_start"), "planned_start")
    end = _moment(data.get("planned_end"), "planned_end")
    if end <= start:
        raise BadChange("planned_end: must be after planned_start")
    if end - start > timedelta(days=MAX_WINDOW_DAYS):
        raise BadChange(f"planned_end: the window may last at most {MAX_WINDOW_DAYS} days")
    zone = data.get("timezone")
    if zone in (None, ""):
        zone = "UTC"
    elif not isinstance(zone, str):
        raise BadPayload("timezone: must be a string (an IANA time zone)")
    elif zone not in time_zones():
        raise BadChange(f"timezone: unknown time zone {zone[:64]!r} (an IANA name, e.g. "
                        "Europe/Amsterdam)")
    team = string(data.get("team"), "team", max_length=64, required=False)
    if team is not None and not _TEAM.fullmatch(team):
        raise BadPayload("team: letters, digits, '.', '_' and '-' (up to 64)")
    url = string(data.get("documentation_url"), "documentation_url", max_length=2000,
                 required=False)
    if url is not None and not _URL.fullmatch(url):
        raise BadPayload("documentation_url: must be an http:// or https:// URL")

    def text(name: str) -> str:
        return string(data.get(name), name, max_length=20_000, required=False,
                      allow_empty=True) or ""

    return Draft(
        type=change_type, summary=summary,
        hosts=_strings(data.get("hosts"), "hosts", max_items=MAX_HOSTS),
        services=_strings(data.get("services"), "services", max_items=MAX_SERVICES),
        planned_start=start, planned_end=end, timezone=zone, team=team,
        risk_assessment=text("risk_assessment"),
        implementation_plan=text("implementation_plan"), rollback_plan=text("rollback_plan"),
        documentation_url=url, tickets=_tickets(data.get("tickets")),
        packages=_packages(data.get("packages")))


def parse_move(action: Action, body: Any) -> dict[str, Any]:
    """The move's fields: reason, outcome, freeze_override (absent ones None)."""
    allowed, required = MOVE_FIELDS[action]
    data = mapping(body, "body")
    no_unknown(data, allowed, "")
    out: dict[str, Any] = {"reason": None, "outcome": None, "freeze_override": None}
    for name in ("reason", "freeze_override"):
        if name in allowed:
            out[name] = string(data.get(name), name, max_length=2000,
                               required=name in required)
    if "outcome" in allowed:
        out["outcome"] = choice(data.get("outcome"), Outcome, "outcome")
    return out


def parse_risk_override(body: Any) -> tuple[RiskLevel, str]:
    data = mapping(body, "body")
    no_unknown(data, {"level", "reason"}, "")
    return (choice(data.get("level"), RiskLevel, "level"),
            string(data.get("reason"), "reason", max_length=2000))


# -- the same rules as JSON Schema (collector/openapi_schemas.py adds them to the document) ---

_BLANK = "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x10000)) if c.isspace())
_NOT_BLANK = f"^[^\\u0000]*[^\\u0000{_BLANK}][^\\u0000]*$"
_TIME = {"type": "string", "format": "date-time", "pattern": YEAR_PATTERN,
         "description": "RFC 3339 with its offset, years 2000-8999"}


def _required_text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, "pattern": _NOT_BLANK}


def _optional_text(max_length: int) -> dict[str, Any]:
    return {"type": ["string", "null"], "maxLength": max_length, "pattern": NUL_FREE}


def _names(max_items: int) -> dict[str, Any]:
    return {"type": ["array", "null"], "maxItems": max_items, "items": _required_text(255)}


def schemas() -> dict[str, dict[str, Any]]:
    reason = _required_text(2000)
    return {
        "ChangeDraft": {
            "type": "object", "additionalProperties": False,
            "required": ["type", "summary", "planned_start", "planned_end"],
            "description": f"planned_end after planned_start, at most {MAX_WINDOW_DAYS} days "
                           "later; hosts known to the collector (names, or globs matching "
                           "one); tickets that exist (else 400 naming the field)",
            "properties": {
                "type": {"type": "string", "enum": [t.value for t in ChangeType]},
                "summary": _required_text(500),
                "hosts": _names(MAX_HOSTS),
                "services": _names(MAX_SERVICES),
                "planned_start": _TIME, "planned_end": _TIME,
                "timezone": {"enum": [*sorted(time_zones()), None, ""],
                             "description": "the IANA time zone the window is shown in "
                                            "(default UTC)"},
                "team": {"anyOf": [{"type": "null"},
                                   {"type": "string", "pattern": TEAM_PATTERN},
                                   {"type": "string", "pattern": f"^[{_BLANK}]*$"}]},
                "risk_assessment": _optional_text(20_000),
                "implementation_plan": _optional_text(20_000),
                "rollback_plan": _optional_text(20_000),
                "documentation_url": {"anyOf": [
                    {"type": "null"}, {"type": "string", "pattern": f"^[{_BLANK}]*$"},
                    {"type": "string", "maxLength": 2000, "pattern": URL_PATTERN}]},
                "tickets": {"type": ["array", "null"], "maxItems": MAX_TICKETS,
                            "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
                "packages": {"type": ["array", "null"], "maxItems": MAX_PACKAGES, "items": {
                    "type": "object", "additionalProperties": False, "required": ["name"],
                    "properties": {"name": _required_text(255),
                                   "version": _optional_text(255)}}},
            }},
        "ChangeSubmit": {"type": "object", "additionalProperties": False, "properties": {}},
        "ChangeApprove": {"type": "object", "additionalProperties": False, "properties": {
            "reason": _optional_text(2000),
            "freeze_override": {**_optional_text(2000), "description": "why a normal change "
                                "inside a change freeze is approved anyway (else 409)"}}},
        "ChangeReject": {"type": "object", "additionalProperties": False,
                         "required": ["reason"], "properties": {"reason": reason}},
        "ChangeStart": {"type": "object", "additionalProperties": False, "properties": {}},
        "ChangeComplete": {"type": "object", "additionalProperties": False,
                           "required": ["outcome"], "properties": {
                               "outcome": {"type": "string",
                                           "enum": [o.value for o in Outcome]},
                               "reason": _optional_text(2000)}},
        "ChangeReview": {"type": "object", "additionalProperties": False,
                         "properties": {"reason": _optional_text(2000)}},
        "RiskOverride": {"type": "object", "additionalProperties": False,
                         "required": ["level", "reason"], "properties": {
                             "level": {"type": "string", "enum": [r.value for r in RiskLevel]},
                             "reason": reason}},
        "Change": {"type": "object", "required": ["id", "type", "status", "summary", "hosts",
                                                  "risk", "conflicts"],
                   "properties": {"id": {"type": "integer"}, "type": {"type": "string"},
                                  "status": {"type": "string"}, "summary": {"type": "string"},
                                  "hosts": {"type": "array", "items": {"type": "string"}},
                                  "risk": {"type": "object"},
                                  "conflicts": {"type": "array"}}},
        "ChangeList": {"type": "object", "required": ["changes"], "properties": {
            "changes": {"type": "array", "items": {"$ref": "#/components/schemas/Change"}},
            "next_before": {"type": "integer"}}},
        "ChangeCalendar": {"type": "object", "required": ["from", "to", "changes", "freezes"],
                           "properties": {"from": {"type": "string"},
                                          "to": {"type": "string"},
                                          "changes": {"type": "array"},
                                          "freezes": {"type": "array"}}},
        "ChangeIncidents": {"type": "object", "required": ["changes"],
                            "properties": {"changes": {"type": "array"}}},
    }


# Request bodies among them (collector/openapi_schemas.py REQUEST_BODIES).
REQUEST_BODIES = ("ChangeDraft", "ChangeSubmit", "ChangeApprove", "ChangeReject", "ChangeStart",
                  "ChangeComplete", "ChangeReview", "RiskOverride")
