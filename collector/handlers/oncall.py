"""On-call over HTTP: who is on call, a ticket's escalation, the notification queue, and the
one-click acknowledge/resolve links that notifications carry.

The links are signed, expiring, single-purpose capabilities (alerting/notify/links.py): the
token in the path is the credential, so those two routes need no bearer token. Opening a link
(GET) only shows what it will do, behind a button that POSTs: mail scanners and chat link
previews fetch links on their own, and must not acknowledge a page nobody has read. Each link
works once (its nonce is recorded in `action_uses`).
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from alerting.lifecycle import InvalidTransition
from alerting.notify.links import LinkError, verify_action
from alerting.schedule import ROLES
from collector.app import INTAKE, ONCALL, STORES, error_response
from collector.handlers.tickets import ticket_json
from collector.payloads.fields import BadPayload, string
from collector.store.actions import use_action
from collector.store.notifications import STATUSES
from collector.store.tickets import TicketNotFound

MAX_LIMIT = 500
ACTOR = "one-click link"


def _oncall(request: web.Request):
    oncall = request.app.get(ONCALL)
    if oncall is None:
        raise web.HTTPNotFound(text='{"error": "on-call is not configured: set '
                                    'oncall.schedule_file"}', content_type="application/json")
    return oncall


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadPayload(f"{name}: not an ISO 8601 time such as 2026-03-29T01:30:00Z") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def who(request: web.Request) -> web.Response:
    oncall = _oncall(request)
    query = request.query
    unknown = set(query) - {"at", "role", "team"}
    if unknown:
        raise BadPayload(f"{sorted(unknown)[0]}: unknown query parameter")
    at = _time(query.get("at"), "at") or request.app[INTAKE].now()
    roles = [query["role"]] if "role" in query else list(ROLES)
    for role in roles:
        if role not in ROLES:
            raise BadPayload(f"role: one of {', '.join(ROLES)}")
    team = string(query.get("team"), "team", max_length=255, required=False)
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
    state = await oncall.escalator.store.get(int(request.match_info["id"]))
    if state is None:
        return error_response(404, "this ticket has no escalation")
    return web.json_response({k: v.isoformat() if isinstance(v, datetime) else v
                              for k, v in state.items()})


async def notifications(request: web.Request) -> web.Response:
    oncall = _oncall(request)
    query = request.query
    unknown = set(query) - {"status", "ticket", "limit", "before"}
    if unknown:
        raise BadPayload(f"{sorted(unknown)[0]}: unknown query parameter")
    status = query.get("status")
    if status is not None and status not in STATUSES:
        raise BadPayload(f"status: one of {', '.join(STATUSES)}")
    limit_text = query.get("limit", "100")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise BadPayload(f"limit: must be a whole number from 1 to {MAX_LIMIT}")
    numbers: dict[str, int | None] = {}
    for name in ("ticket", "before"):
        text = query.get(name)
        if text is not None and (not text.isdigit() or len(text) > 18):
            raise BadPayload(f"{name}: must be an id")
        numbers[name] = int(text) if text is not None else None
    rows = await oncall.notifier.store.list(status=status, ticket_id=numbers["ticket"],
                                            limit=int(limit_text),
                                            before_id=numbers["before"])
    body: dict[str, Any] = {"notifications": [
        {name: (getattr(row, name).isoformat() if isinstance(getattr(row, name), datetime)
                else getattr(row, name)) for name in row.__slots__} for row in rows]}
    if rows:
        body["next_before"] = rows[-1].id
    return web.json_response(body)


# -- one-click links -------------------------------------------------------------------------

_VERBS = {"ack": "Acknowledge", "resolve": "Resolve"}


def _claim(request: web.Request):
    oncall = _oncall(request)
    if oncall.links is None:
        raise web.HTTPNotFound(text='{"error": "action links are off: set '
                                    'oncall.link_secret_file"}', content_type="application/json")
    try:
        return verify_action(oncall.links.secret, request.match_info["token"],
                             request.app[INTAKE].now())
    except LinkError as exc:
        raise web.HTTPForbidden(text=json.dumps({"error": f"link refused: {exc.reason}"}),
                                content_type="application/json") from None


async def action_page(request: web.Request) -> web.Response:
    claim = _claim(request)
    ticket = await request.app[INTAKE].tickets.get(claim.ticket_id)
    if ticket is None:
        return error_response(404, "no such ticket")
    verb = _VERBS[claim.action]
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>{verb} ticket {ticket.id}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<h1>{verb} ticket {ticket.id}?</h1>
<p><strong>{ticket.priority.value}</strong> {html.escape(ticket.summary)}</p>
<p>Host: {html.escape(ticket.host or "-")} &middot; status: {ticket.status.value}</p>
<form method="post"><button type="submit" style="font-size: 1.2em">{verb}</button></form>
<p><small>This link works once and expires {claim.expires_at.isoformat()}.</small></p>
</body></html>
"""
    return web.Response(text=page, content_type="text/html",
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


async def action(request: web.Request) -> web.Response:
    claim = _claim(request)
    intake = request.app[INTAKE]
    now = intake.now()
    if not await use_action(request.app[STORES].engine, claim, now=now):
        return error_response(409, "this link was used already")
    try:
        if claim.action == "ack":
            ticket = await intake.tickets.acknowledge(claim.ticket_id, actor=ACTOR, now=now)
            intake.acknowledged(ticket)
        else:
            ticket = await intake.tickets.resolve(claim.ticket_id, actor=ACTOR, now=now)
            intake.resolved(ticket.priority, ticket.component, ticket.created_at)
    except TicketNotFound:
        return error_response(404, "no such ticket")
    except InvalidTransition as exc:
        return error_response(409, str(exc), ticket_status=exc.status.value)
    request.app[ONCALL].escalator.wake()
    return web.json_response(ticket_json(ticket))
