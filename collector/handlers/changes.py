"""Changes over HTTP: create, list, show (with timeline and conflicts), the moves of the state
machine, notes, a risk override, the calendar (JSON and iCalendar) and the changes that
caused incidents.

Who acts is the token's person, else the token's name, never a name the request claims: the
author of a change may not approve it, and a claimed name would get around that.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from alerting.changes import Action, ChangeRefused, ChangeStatus, ChangeType, review_due
from collector.app import INTAKE, ONCALL, REGISTRY, SETTINGS, STORES, error_response, principal
from collector.app import read_json as read_body
from collector.change_desk import BadChange, ChangeDesk, Request
from collector.change_ical import to_ical
from collector.handlers.tickets import acting_person, entry_json
from collector.payloads.changes import parse_draft, parse_move, parse_risk_override
from collector.payloads.fields import BadPayload, mapping, no_unknown, string
from collector.payloads.people import person
from collector.query import MAX_ID, ChoiceList, Integer, Path, PathId, Query, Text, Time
from collector.store import changes as store
from collector.store.changes import Change, ChangeFilter, ChangeNotFound

MAX_LIMIT = 500
DEFAULT_CALENDAR_DAYS = 28

LIST_QUERY = Query(
    ChoiceList(name="status", choices=tuple(s.value for s in ChangeStatus),
               description="comma-separated statuses (default: all)"),
    ChoiceList(name="type", choices=tuple(t.value for t in ChangeType),
               description="comma-separated types (default: all)"),
    Text(name="host", description="changes touching this host"),
    Time(name="from", description="planned windows ending after this time"),
    Time(name="to", description="planned windows starting before this time"),
    Integer(name="limit", minimum=1, maximum=MAX_LIMIT, default=100),
    Integer(name="before", minimum=0, maximum=MAX_ID,
            description="only changes with a smaller id (the previous page's next_before)"),
)
CALENDAR_QUERY = Query(
    Time(name="from", description="the calendar's start (default: now)"),
    Time(name="to", description=f"its end (default: {DEFAULT_CALENDAR_DAYS} days after the "
                                "start; at or before the start: an empty calendar)"),
)
INCIDENTS_QUERY = Query(
    Time(name="from", description="failed or rolled-back changes that began at or after "
                                  "this time (default: 90 days ago)"),
    Time(name="to", description="and before this time (default: now)"),
)
CHANGE_PATH = Path(PathId())


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, store.Package):
        return {"name": value.name, "version": value.version}
    return value


def change_json(change: Change, conflicts=()) -> dict[str, Any]:
    body = {f.name: _plain(getattr(change, f.name)) for f in dataclasses.fields(change)}
    body["risk_level"] = change.risk_level
    body["review_due"] = review_due(change.type, change.status)
    body["conflicts"] = [{"kind": c.kind, "message": c.message, "data": dict(c.data)}
                         for c in conflicts]
    return body


def desk(request: web.Request) -> ChangeDesk:
    app = request.app
    settings = app[SETTINGS]
    oncall = app.get(ONCALL)
    registry = app.get(REGISTRY)
    return ChangeDesk(app[STORES].engine, settings=settings.changes,
                      criticality=settings.criticality,
                      past_end_of_support=registry.past_end_of_support if registry else
                      (lambda host: False),
                      schedules=oncall.schedules if oncall is not None else None,
                      clock=app[INTAKE].now)


def _who(request: web.Request) -> tuple[str, str]:
    """(the actor, the role)."""
    who = principal(request)
    return who.person or who.name, who.role.value


def _id(request: web.Request) -> int:
    change_id = CHANGE_PATH.parse(request)["id"]
    if change_id is None:
        raise web.HTTPNotFound(text=json.dumps({"error": "no such change"}),
                               content_type="application/json")
    return change_id


def _refused(exc: ChangeRefused, status: ChangeStatus | None = None) -> web.Response:
    extra = {"change_status": status.value} if status is not None else {}
    return error_response(403 if exc.forbidden else 409, str(exc), **extra)


async def create_change(request: web.Request) -> web.Response:
    actor, _ = _who(request)
    changes = desk(request)
    try:
        change = await changes.create(parse_draft(await read_body(request)), author=actor)
    except BadChange as exc:
        raise BadPayload(str(exc)) from None
    found = await changes.conflicts_of([change])
    return web.json_response(change_json(change, found[change.id]), status=201,
                             headers={"Location": f"/api/v1/changes/{change.id}"})


async def list_changes(request: web.Request) -> web.Response:
    given = LIST_QUERY.parse(request.query)
    search = ChangeFilter(
        status=tuple(ChangeStatus(s) for s in given["status"]),
        type=tuple(ChangeType(t) for t in given["type"]),
        host=given["host"], start=given["from"], end=given["to"], limit=given["limit"],
        before_id=given["before"])
    changes = await store.list_changes(request.app[STORES].engine, search)
    body: dict[str, Any] = {"changes": [change_json(c) for c in changes]}
    if changes:
        body["next_before"] = changes[-1].id
    return web.json_response(body)


async def show_change(request: web.Request) -> web.Response:
    changes = desk(request)
    change = await store.get_change(changes.engine, _id(request))
    if change is None:
        return error_response(404, "no such change")
    found = await changes.conflicts_of([change])
    body = change_json(change, found[change.id])
    body["timeline"] = [entry_json(e) for e in await store.timeline(changes.engine, change.id)]
    return web.json_response(body)


async def _move(request: web.Request, action: Action) -> web.Response:
    change_id = _id(request)
    fields = parse_move(action, await read_body(request) if request.can_read_body else {})
    actor, role = _who(request)
    changes = desk(request)
    try:
        change = await changes.act(change_id, Request(action=action, actor=actor, role=role,
                                                      **fields))
    except ChangeNotFound:
        return error_response(404, "no such change")
    except ChangeRefused as exc:
        current = await store.get_change(changes.engine, change_id)
        return _refused(exc, current.status if current else None)
    found = await changes.conflicts_of([change])
    return web.json_response(change_json(change, found[change.id]))


async def submit(request: web.Request) -> web.Response:
    return await _move(request, Action.SUBMIT)


async def approve(request: web.Request) -> web.Response:
    return await _move(request, Action.APPROVE)


async def reject(request: web.Request) -> web.Response:
    return await _move(request, Action.REJECT)


async def start(request: web.Request) -> web.Response:
    return await _move(request, Action.START)


async def complete(request: web.Request) -> web.Response:
    return await _move(request, Action.COMPLETE)


async def review(request: web.Request) -> web.Response:
    return await _move(request, Action.REVIEW)


async def note(request: web.Request) -> web.Response:
    change_id = _id(request)
    body = mapping(await read_body(request), "body")
    no_unknown(body, {"text", "actor"}, "")
    text = string(body.get("text"), "text", max_length=20_000)
    actor = acting_person(request, person(body.get("actor"), "actor", required=False))
    try:
        entry = await store.add_note(request.app[STORES].engine, change_id, actor=actor,
                                     text=text, now=request.app[INTAKE].now())
    except ChangeNotFound:
        return error_response(404, "no such change")
    return web.json_response(entry_json(entry), status=201)


async def override_risk(request: web.Request) -> web.Response:
    change_id = _id(request)
    level, reason = parse_risk_override(await read_body(request))
    actor, role = _who(request)
    changes = desk(request)
    try:
        change = await changes.override_risk(change_id, level=level, reason=reason,
                                             actor=actor, role=role)
    except ChangeNotFound:
        return error_response(404, "no such change")
    except ChangeRefused as exc:
        return _refused(exc)
    return web.json_response(change_json(change))


def _range(request: web.Request, query: Query, *, back: timedelta | None,
           ahead: timedelta | None) -> tuple[datetime, datetime]:
    given = query.parse(request.query)
    now = request.app[INTAKE].now()
    start = given["from"] or (now - back if back else now)
    end = given["to"] or (start + ahead if ahead else now)
    # A `to` at or before `from` is an empty range: nothing is in it.
    return start, max(start, end)


async def _calendar(request: web.Request) -> tuple[datetime, datetime, list, dict]:
    start, end = _range(request, CALENDAR_QUERY, back=None,
                        ahead=timedelta(days=DEFAULT_CALENDAR_DAYS))
    changes = desk(request)
    listed = await store.calendar(changes.engine, start, end) if end > start else []
    return start, end, listed, await changes.conflicts_of(listed)


async def calendar(request: web.Request) -> web.Response:
    start, end, listed, found = await _calendar(request)
    freezes = [{"start": f.start.isoformat(), "end": f.end.isoformat(), "reason": f.reason}
               for f in request.app[SETTINGS].changes.freezes
               if f.start < end and start < f.end]
    return web.json_response({"from": start.isoformat(), "to": end.isoformat(),
                              "changes": [change_json(c, found[c.id]) for c in listed],
                              "freezes": freezes})


async def calendar_ical(request: web.Request) -> web.Response:
    start, end, listed, found = await _calendar(request)
    freezes = [f for f in request.app[SETTINGS].changes.freezes
               if f.start < end and start < f.end]
    text = to_ical(listed, found, freezes, request.app[INTAKE].now())
    return web.Response(text=text, content_type="text/calendar", charset="utf-8")


async def incidents(request: web.Request) -> web.Response:
    start, end = _range(request, INCIDENTS_QUERY, back=timedelta(days=90), ahead=None)
    settings = request.app[SETTINGS].changes
    caused = await store.changes_with_incidents(request.app[STORES].engine, start, end,
                                                after=settings.incident_window)
    return web.json_response({
        "from": start.isoformat(), "to": end.isoformat(),
        "after_hours": settings.incident_window_hours,
        "harmful_changes": len(caused),
        "with_incidents": sum(1 for c in caused if c.incidents),
        "changes": [{**change_json(c.change), "incidents": [
            {"ticket": i.ticket, "host": i.host, "summary": i.summary,
             "priority": i.priority, "created_at": i.created_at.isoformat()}
            for i in c.incidents]} for c in caused]})
