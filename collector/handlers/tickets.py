"""The ticket queue over HTTP: list, report, show, acknowledge, resolve, close, note, priority."""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any

from aiohttp import web

from alerting.lifecycle import InvalidTransition
from alerting.ticket import Priority, Source, Status
from collector.app import INTAKE, error_response, principal, read_json
from collector.payloads.fields import BadPayload, choice, mapping, no_unknown, string
from collector.payloads.reports import parse_report
from collector.store.tickets import Ticket, TicketFilter, TicketNotFound, TimelineEntry

MAX_LIMIT = 500


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    return {f.name: _plain(getattr(ticket, f.name)) for f in dataclasses.fields(ticket)}


def entry_json(entry: TimelineEntry) -> dict[str, Any]:
    return {f.name: _plain(getattr(entry, f.name)) for f in dataclasses.fields(entry)}


def _many(query, name: str, kind: type[enum.Enum]) -> tuple:
    values = [v for raw in query.getall(name, []) for v in raw.split(",") if v]
    return tuple(choice(v, kind, name) for v in values)


def _filter(query) -> TicketFilter:
    unknown = set(query) - {"status", "priority", "host", "component", "source",
                            "include_attached", "limit", "before"}
    if unknown:
        raise BadPayload(f"{sorted(unknown)[0]}: unknown query parameter")
    limit_text = query.get("limit", "100")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise BadPayload(f"limit: must be a whole number from 1 to {MAX_LIMIT}")
    before_text = query.get("before")
    if before_text is not None and (not before_text.isdigit() or len(before_text) > 18):
        raise BadPayload("before: must be a ticket id")
    attached = query.get("include_attached", "false")
    if attached not in ("true", "false"):
        raise BadPayload("include_attached: must be true or false")
    source = query.get("source")
    # The queue: what still needs work, unless other statuses are asked for.
    statuses = _many(query, "status", Status) or (Status.OPEN, Status.ACKNOWLEDGED)
    return TicketFilter(
        status=statuses,
        priority=_many(query, "priority", Priority),
        host=string(query.get("host"), "host", max_length=255, required=False),
        component=string(query.get("component"), "component", max_length=255, required=False),
        source=choice(source, Source, "source") if source is not None else None,
        include_attached=attached == "true",
        limit=int(limit_text),
        before_id=int(before_text) if before_text is not None else None,
    )


async def list_tickets(request: web.Request) -> web.Response:
    tickets = await request.app[INTAKE].tickets.list(_filter(request.query))
    body = {"tickets": [ticket_json(t) for t in tickets]}
    if tickets:
        body["next_before"] = tickets[-1].id
    return web.json_response(body)


async def create_ticket(request: web.Request) -> web.Response:
    report = parse_report(await read_json(request), default_reporter=principal(request).name)
    ticket = await request.app[INTAKE].report(report)
    return web.json_response(ticket_json(ticket), status=201,
                             headers={"Location": f"/api/v1/tickets/{ticket.id}"})


def _id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def show_ticket(request: web.Request) -> web.Response:
    store = request.app[INTAKE].tickets
    ticket = await store.get(_id(request))
    if ticket is None:
        return error_response(404, "no such ticket")
    body = ticket_json(ticket)
    body["timeline"] = [entry_json(e) for e in await store.timeline(ticket.id)]
    body["attached"] = [ticket_json(t) for t in await store.children(ticket.id)]
    return web.json_response(body)


async def _optional_body(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    body = dict(mapping(await read_json(request), "body"))
    no_unknown(body, allowed, "")
    return body


async def _transition(request: web.Request, action: str) -> web.Response:
    intake = request.app[INTAKE]
    body = await _optional_body(request, {"note"})
    note = string(body.get("note"), "note", max_length=20_000, required=False)
    actor = principal(request).name
    try:
        if action == "ack":
            ticket = await intake.tickets.acknowledge(_id(request), actor=actor, now=intake.now())
            intake.acknowledged(ticket)
        elif action == "resolve":
            ticket = await intake.tickets.resolve(_id(request), actor=actor, now=intake.now(),
                                                  note=note)
            intake.resolved(ticket.priority, ticket.component, ticket.created_at)
        else:
            ticket = await intake.tickets.close(_id(request), actor=actor, now=intake.now())
        if note and action != "resolve":
            await intake.tickets.add_note(ticket.id, actor=actor, text=note, now=intake.now())
    except TicketNotFound:
        return error_response(404, "no such ticket")
    except InvalidTransition as exc:
        return error_response(409, str(exc), ticket_status=exc.status.value)
    return web.json_response(ticket_json(ticket))


async def acknowledge(request: web.Request) -> web.Response:
    return await _transition(request, "ack")


async def resolve(request: web.Request) -> web.Response:
    return await _transition(request, "resolve")


async def close(request: web.Request) -> web.Response:
    return await _transition(request, "close")


async def note(request: web.Request) -> web.Response:
    intake = request.app[INTAKE]
    body = mapping(await read_json(request), "body")
    no_unknown(body, {"text"}, "")
    text = string(body.get("text"), "text", max_length=20_000)
    try:
        entry = await intake.tickets.add_note(_id(request), actor=principal(request).name,
                                              text=text, now=intake.now())
    except TicketNotFound:
        return error_response(404, "no such ticket")
    return web.json_response(entry_json(entry), status=201)


async def override_priority(request: web.Request) -> web.Response:
    intake = request.app[INTAKE]
    body = mapping(await read_json(request), "body")
    no_unknown(body, {"priority", "reason"}, "")
    priority = choice(body.get("priority"), Priority, "priority")
    reason = string(body.get("reason"), "reason", max_length=2000)
    try:
        ticket = await intake.tickets.override_priority(
            _id(request), priority=priority, reason=reason, actor=principal(request).name,
            now=intake.now())
    except TicketNotFound:
        return error_response(404, "no such ticket")
    return web.json_response(ticket_json(ticket))
