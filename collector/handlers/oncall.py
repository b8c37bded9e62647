"""On-call over HTTP: who is on call, a ticket's escalation, the notification queue. (The
one-click links that notifications carry: collector/handlers/actions.py.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from alerting.schedule import ROLES
from collector.app import INTAKE, ONCALL, error_response
from collector.handlers.tickets import TICKET_PATH
from collector.query import MAX_ID, Choice, Integer, Query, Text, Time
from collector.store.notifications import STATUSES

MAX_LIMIT = 500


def _oncall(request: web.Request):
    oncall = request.app.get(ONCALL)
    if oncall is None:
        raise web.HTTPNotFound(text='{"error": "on-call is not configured: set '
                                    'oncall.schedule_file"}', content_type="application/json")
    return oncall


# The queries of /api/v1/oncall and /api/v1/notifications; collector/openapi.py documents them
# from these same declarations.
WHO_QUERY = Query(
    Time(name="at", description="the moment asked about (default now)"),
    Choice(name="role", choices=ROLES, description="one role (default: all)"),
    Text(name="team"),
)
NOTIFICATIONS_QUERY = Query(
    Choice(name="status", choices=STATUSES),
    Integer(name="ticket", minimum=0, maximum=MAX_ID, description="one ticket's notifications"),
    Integer(name="limit", minimum=1, maximum=MAX_LIMIT, default=100),
    Integer(name="before", minimum=0, maximum=MAX_ID,
            description="only notifications with a smaller id (the previous page's "
                        "next_before)"),
)


async def who(request: web.Request) -> web.Response:
    oncall = _oncall(request)
    given = WHO_QUERY.parse(request.query)
    at = given["at"] or request.app[INTAKE].now()
    roles = [given["role"]] if given["role"] is not None else list(ROLES)
    team = given["team"]
    if team is not None and team not in {t.name for t in oncall.schedules.teams}:
        return error_response(404, f"no team named {team!r}")
    shifts = []
    for role in roles:
        for shift in oncall.schedules.who(at, role, team):
            shifts.append({"team": shift.team, "role": shift.role, "person": shift.person,
                           "start": shift.start.isoformat(), "end": shift.end.isoformat(),
                           "reason": shift.reason})
    return web.json_response({"at": at.isoformat(), "shifts": shifts})


async def escalation(request: web.Request) -> web.Response:
    oncall = _oncall(request)
    ticket_id = TICKET_PATH.parse(request)["id"]
    state = await oncall.escalator.store.get(ticket_id) if ticket_id is not None else None
    if state is None:
        return error_response(404, "this ticket has no escalation")
    return web.json_response({k: v.isoformat() if isinstance(v, datetime) else v
                              for k, v in state.items()})


async def notifications(request: web.Request) -> web.Response:
    oncall = _oncall(request)
    given = NOTIFICATIONS_QUERY.parse(request.query)
    rows = await oncall.notifier.store.list(status=given["status"], ticket_id=given["ticket"],
                                            limit=given["limit"], before_id=given["before"])
    body: dict[str, Any] = {"notifications": [
        {name: (getattr(row, name).isoformat() if isinstance(getattr(row, name), datetime)
                else getattr(row, name)) for name in row.__slots__} for row in rows]}
    if rows:
        body["next_before"] = rows[-1].id
    return web.json_response(body)
