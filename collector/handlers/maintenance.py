"""Maintenance windows over HTTP: list, add, show, end (docs/maintenance.md).

Parse -> alerting/maintenance.py (the window and its refusals) -> collector/store/maintenance.py
-> answer. Refusals: 400 for a malformed body (a field of the wrong type, an unknown field,
text too long or holding NUL: the reason names the field); 409 for a well-formed window that
cannot be (an end not after its start, an unknown time zone, a recurrence that never occurs,
a window wholly in the past, a matcher that is not one, no scope): the reason names the field
too. Nothing is written then. This process sees a window it added or ended at once; other
collectors within `[maintenance] refresh_seconds`.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from aiohttp import web

from alerting.maintenance import Occurrence, WindowError, parse_window
from collector.app import INTAKE, MAINTENANCE, error_response, read_json
from collector.handlers.tickets import acting_person
from collector.payloads.fields import BadPayload, mapping, no_unknown, string
from collector.payloads.people import person
from collector.query import Flag, Path, PathId, Query
from collector.store.maintenance import MaintenanceStore, StoredWindow, WindowNotFound

MAX_SCOPE = 100
ADD_FIELDS = {"name", "start", "end", "duration", "timezone", "rrule", "hosts", "services",
              "matchers", "comment", "actor"}
LIST_QUERY = Query(Flag(name="all", description="also the windows ended by hand"))
WINDOW_PATH = Path(PathId())
END_FIELDS = {"actor"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def window_json(stored: StoredWindow, now: datetime) -> dict[str, Any]:
    return _plain(stored.as_dict(now))


def occurrence_json(occurrence: Occurrence) -> dict[str, Any]:
    window = occurrence.window
    return {"window": window.key, "name": window.name, "source": window.source,
            "start": occurrence.start.isoformat(), "end": occurrence.end.isoformat(),
            "scope": window.scope.describe()}


def _store(request: web.Request) -> MaintenanceStore:
    return request.app[MAINTENANCE].store


def _id(request: web.Request) -> int:
    window_id = WINDOW_PATH.parse(request)["id"]
    if window_id is None:
        raise _not_found()
    return window_id


def _not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(text=json.dumps({"error": "no such maintenance window"}),
                            content_type="application/json")


def _strings(value: Any, path: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadPayload(f"{path}: must be an array of strings")
    if len(value) > MAX_SCOPE:
        raise BadPayload(f"{path}: more than {MAX_SCOPE} items")
    return [string(item, f"{path}[{index}]", max_length=255)
            for index, item in enumerate(value)]


async def list_windows(request: web.Request) -> web.Response:
    given = LIST_QUERY.parse(request.query)
    now = request.app[INTAKE].now()
    maintenance = request.app[MAINTENANCE]
    windows = await maintenance.store.list(include_ended=given["all"])
    return web.json_response({
        "windows": [window_json(w, now) for w in windows],
        # What holds alerts now, stored windows and approved changes alike.
        "active": [occurrence_json(o) for o in maintenance.active(now)],
    })


async def add_window(request: web.Request) -> web.Response:
    body = mapping(await read_json(request), "body")
    no_unknown(body, ADD_FIELDS, "")
    name = string(body.get("name"), "name", max_length=255)
    start = string(body.get("start"), "start", max_length=64)
    end = string(body.get("end"), "end", max_length=64, required=False)
    duration = string(body.get("duration"), "duration", max_length=32, required=False)
    zone = string(body.get("timezone"), "timezone", max_length=64, required=False)
    rrule = string(body.get("rrule"), "rrule", max_length=1000, required=False)
    hosts = _strings(body.get("hosts"), "hosts")
    services = _strings(body.get("services"), "services")
    matchers = _strings(body.get("matchers"), "matchers")
    comment = string(body.get("comment"), "comment", max_length=2000, required=False) or ""
    actor = acting_person(request, person(body.get("actor"), "actor", required=False))
    now = request.app[INTAKE].now()
    try:
        # In a thread: whether a recurrence ever occurs is a search (up to a second of CPU
        # for an impossible monthly rule), which must not hold the event loop.
        window = await asyncio.to_thread(
            parse_window, key="new", name=name, start=start, end=end, duration=duration,
            timezone=zone, rrule_text=rrule, hosts=hosts, services=services,
            matchers=matchers, now=now)
    except WindowError as exc:
        return error_response(409, str(exc))
    stored = await _store(request).add(window, comment=comment, actor=actor, now=now)
    await request.app[MAINTENANCE].reload()
    return web.json_response(window_json(stored, now), status=201)


async def show_window(request: web.Request) -> web.Response:
    window_id = _id(request)
    try:
        stored = await _store(request).get(window_id)
    except WindowNotFound:
        raise _not_found() from None
    return web.json_response(window_json(stored, request.app[INTAKE].now()))


async def end_window(request: web.Request) -> web.Response:
    window_id = _id(request)
    body: Any = {}
    if request.can_read_body:
        body = mapping(await read_json(request), "body")
        no_unknown(body, END_FIELDS, "")
    actor = acting_person(request, person(body.get("actor"), "actor", required=False))
    now = request.app[INTAKE].now()
    try:
        stored = await _store(request).end(window_id, actor=actor, now=now)
    except WindowNotFound:
        raise _not_found() from None
    await request.app[MAINTENANCE].reload()
    return web.json_response(window_json(stored, now))
