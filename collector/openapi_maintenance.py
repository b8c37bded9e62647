"""The maintenance windows' schemas in the OpenAPI document (collector/openapi.py): what
collector/handlers/maintenance.py reads and answers (docs/maintenance.md)."""

from __future__ import annotations

from typing import Any

from collector.query import NUL_FREE

REQUEST_BODIES = ("MaintenanceWindowAdd", "MaintenanceEnd")

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}


def _text(max_length: int, *, required: bool, description: str) -> dict[str, Any]:
    from collector.openapi_schemas import NOT_BLANK

    if required:
        return {"type": "string", "maxLength": max_length, "pattern": NOT_BLANK,
                "description": description}
    return {"type": ["string", "null"], "maxLength": max_length, "pattern": NUL_FREE,
            "description": description}


def _list(description: str) -> dict[str, Any]:
    from collector.openapi_schemas import NOT_BLANK

    return {"type": ["array", "null"], "maxItems": 100, "description": description,
            "items": {"type": "string", "maxLength": 255, "pattern": NOT_BLANK}}


def schemas(actor: dict[str, Any]) -> dict[str, Any]:
    occurrence = {"type": "object", "properties": {"start": _STR, "end": _STR}}
    return {
        "MaintenanceWindowAdd": {
            "type": "object", "additionalProperties": False, "required": ["name", "start"],
            "description": "A window that cannot be (end not after start, unknown time zone, "
                           "a recurrence that never occurs, wholly in the past, a bad matcher, "
                           "no scope) is refused with 409 naming the field",
            "properties": {
                "name": _text(255, required=True, description="what it is for"),
                "start": _text(64, required=True, description=(
                    "ISO 8601; without an offset it is read in `timezone`, e.g. "
                    "2026-03-29T02:00")),
                "end": _text(64, required=False, description="ISO 8601 (or give duration)"),
                "duration": _text(32, required=False, description="e.g. 2h, 90m, 1h30m"),
                "timezone": _text(64, required=False,
                                  description="IANA zone (default UTC), e.g. Europe/Amsterdam"),
                "rrule": _text(1000, required=False, description=(
                    "RFC 5545 recurrence rule, DAILY or coarser (INTERVAL from 1; one value "
                    "in BYHOUR, BYMINUTE, BYSECOND), e.g. FREQ=WEEKLY;BYDAY=SU")),
                "hosts": _list("host names or globs"),
                "services": _list("service names"),
                "matchers": _list("Alertmanager label matchers, e.g. alertname=~\"Disk.*\""),
                "comment": _text(2000, required=False, description="why"),
                "actor": actor}},
        "MaintenanceEnd": {"type": "object", "additionalProperties": False,
                           "properties": {"actor": actor}},
        "MaintenanceWindow": {
            "type": "object",
            "required": ["id", "name", "start", "duration_seconds", "timezone", "hosts",
                         "services", "matchers", "active"],
            "properties": {
                "id": {"type": "integer"}, "name": _STR, "start": _STR, "end": _TIME,
                "duration_seconds": {"type": "integer"}, "rrule": _NULLABLE_STR,
                "timezone": _STR, "hosts": {"type": "array", "items": _STR},
                "services": {"type": "array", "items": _STR},
                "matchers": {"type": "array", "items": _STR}, "comment": _STR,
                "created_by": _STR, "created_at": _STR, "ended_at": _TIME,
                "ended_by": _NULLABLE_STR, "active": {"type": "boolean"},
                "next": {"anyOf": [{"type": "null"}, occurrence]}}},
        "MaintenanceList": {
            "type": "object", "required": ["windows", "active"],
            "properties": {
                "windows": {"type": "array",
                            "items": {"$ref": "#/components/schemas/MaintenanceWindow"}},
                "active": {"type": "array", "description": "occurrences holding alerts now, "
                                                           "approved changes' windows too",
                           "items": {"type": "object", "properties": {
                               "window": _STR, "name": _STR, "source": _STR, "start": _STR,
                               "end": _STR, "scope": _STR}}}}},
    }
