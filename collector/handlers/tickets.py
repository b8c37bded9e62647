"""The ticket queue over HTTP: list, report, show, acknowledge, resolve, close, note, priority,
assign.

The actor a timeline records is a person: the one the token names, else the `actor` the
request gives (the CLI's `--as`), else the token's name. A token that names a person acts
for that person only.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
from datetime import datetime
from typing import Any

from aiohttp import web

from alerting.lifecycle import InvalidTransition
from alerting.ticket import Priority, Source, Status
from collector.app import INTAKE, STORES, error_response, principal, read_json
from collector.payloads.fields import choice, mapping, no_unknown, string
from collector.payloads.people import person
from collector.payloads.reports import parse_report
from collector.query import (
    MAX_ID,
    Choice,
    ChoiceList,
    Flag,
    Integer,
    Path,
    PathId,
    Query,
    Text,
)
from collector.store.assignment import ClosedTicket, assign
from collector.store.tickets import Ticket, TicketFilter, TicketNotFound, TimelineEntry
from collector.ticket_acts import Act, Acted, act

MAX_LIMIT = 500
log = logging.getLogger("regie.collector.tickets")


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


def _words(kind: type[enum.Enum]) -> tuple[str, ...]:
    return tuple(member.value for member in kind)


# The ticket list's query; collector/openapi.py documents it from this same declaration.
LIST_QUERY = Query(
    # The queue: what still needs work, unless other statuses are asked for.
    ChoiceList(name="status", choices=_words(Status), default=("open", "acknowledged"),
               description="comma-separated statuses"),
    ChoiceList(name="priority", choices=_words(Priority),
               description="comma-separated priorities (default: all)"),
    Text(name="host"),
    Text(name="component"),
    Choice(name="source", choices=_words(Source)),
    Flag(name="include_attached", description="also list alerts attached to a parent ticket"),
    Integer(name="limit", minimum=1, maximum=MAX_LIMIT, default=100),
    Integer(name="before", minimum=0, maximum=MAX_ID,
            description="only tickets with a smaller id (the previous page's next_before)"),
    Flag(name="details", description="include each ticket's details (labels, annotations, "
                                     "custom details); left out by default"),
)


def _filter(query) -> TicketFilter:
    given = LIST_QUERY.parse(query)
    return TicketFilter(
        status=tuple(Status(s) for s in given["status"]),
        priority=tuple(Priority(p) for p in given["priority"]),
        host=given["host"],
        component=given["component"],
        source=Source(given["source"]) if given["source"] is not None else None,
        include_attached=given["include_attached"],
        limit=given["limit"],
        before_id=given["before"],
        with_details=given["details"],
    )


async def list_tickets(request: web.Request) -> web.Response:
    search = _filter(request.query)
    tickets = await request.app[INTAKE].tickets.list(search)
    body: dict[str, Any] = {"tickets": [
        ticket_json(t) if search.with_details else without_details(ticket_json(t))
        for t in tickets]}
    if tickets:
        body["next_before"] = tickets[-1].id
    return web.json_response(body)


def without_details(ticket: dict[str, Any]) -> dict[str, Any]:
    del ticket["details"]
    return ticket


def acting_person(request: web.Request, claimed: str | None) -> str:
    """Who the timeline names: the token's person, else `claimed`, else the token's name."""
    who = principal(request)
    if who.person is not None:
        if claimed is not None and claimed != who.person:
            raise web.HTTPForbidden(
                text=json.dumps({"error": f"actor: this token acts for {who.person} only"}),
                content_type="application/json")
        return who.person
    return claimed or who.name


def _actor_field(body: Any) -> str | None:
    return person(body.get("actor"), "actor", required=False)


def acted_json(acted: Acted) -> dict[str, Any]:
    """The ticket, and what happened: `already` when it was in that state before."""
    return {**ticket_json(acted.ticket), "already": acted.already,
            "message": f"#{acted.ticket.id} {acted.sentence()}"}


async def create_ticket(request: web.Request) -> web.Response:
    who = principal(request)
    report = parse_report(await read_json(request), default_reporter=who.person or who.name)
    ticket = await request.app[INTAKE].report(report)
    return web.json_response(ticket_json(ticket), status=201,
                             headers={"Location": f"/api/v1/tickets/{ticket.id}"})


# Every /api/v1/tickets/{id}... route; collector/openapi.py documents it from this declaration.
TICKET_PATH = Path(PathId())


def _id(request: web.Request) -> int:
    ticket_id = TICKET_PATH.parse(request)["id"]
    if ticket_id is None:  # past any id: PostgreSQL could not even be asked
        raise web.HTTPNotFound(text=json.dumps({"error": "no such ticket"}),
                               content_type="application/json")
    return ticket_id


async def show_ticket(request: web.Request) -> web.Response:
    store = request.app[INTAKE].tickets
    ticket = await store.get(_id(request))
    if ticket is None:
        return error_response(404, "no such ticket")
    body = ticket_json(ticket)
    body["timeline"] = [entry_json(e) for e in await store.timeline(ticket.id)]
    # A host-down ticket may hold thousands of attached alerts: their details (up to 64 KiB
    # each) are shown on their own page, not repeated here.
    body["attached"] = [without_details(ticket_json(t))
                        for t in await store.children(ticket.id)]
    return web.json_response(body)


async def _optional_body(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    body = dict(mapping(await read_json(request), "body"))
    no_unknown(body, allowed, "")
    return body


async def _transition(request: web.Request, action: Act) -> web.Response:
    body = await _optional_body(request, {"note", "actor"})
    note = string(body.get("note"), "note", max_length=20_000, required=False)
    actor = acting_person(request, _actor_field(body))
    try:
        acted = await act(request.app[INTAKE], _id(request), action, actor=actor, note=note)
    except TicketNotFound:
        return error_response(404, "no such ticket")
    except InvalidTransition as exc:
        return error_response(409, str(exc), ticket_status=exc.status.value)
    return web.json_response(acted_json(acted))


async def acknowledge(request: web.Request) -> web.Response:
    return await _transition(request, "ack")


async def resolve(request: web.Request) -> web.Response:
    return await _transition(request, "resolve")


async def close(request: web.Request) -> web.Response:
    return await _transition(request, "close")


async def note(request: web.Request) -> web.Response:
    intake = request.app[INTAKE]
    body = mapping(await read_json(request), "body")
    no_unknown(body, {"text", "actor"}, "")
    text = string(body.get("text"), "text", max_length=20_000)
    actor = acting_person(request, _actor_field(body))
    try:
        entry = await intake.tickets.add_note(_id(request), actor=actor, text=text,
                                              now=intake.now())
    except TicketNotFound:
        return error_response(404, "no such ticket")
    return web.json_response(entry_json(entry), status=201)


async def override_priority(request: web.Request) -> web.Response:
    intake = request.app[INTAKE]
    body = mapping(await read_json(request), "body")
    no_unknown(body, {"priority", "reason", "actor"}, "")
    priority = choice(body.get("priority"), Priority, "priority")
    reason = string(body.get("reason"), "reason", max_length=2000)
    actor = acting_person(request, _actor_field(body))
    try:
        ticket = await intake.tickets.override_priority(
            _id(request), priority=priority, reason=reason, actor=actor, now=intake.now())
    except TicketNotFound:
        return error_response(404, "no such ticket")
    log.info("ticket %d priority set to %s by %s", ticket.id, priority.value, actor)
    if intake.on_change is not None:   # the escalation starts over: sweep now
        intake.on_change()
    return web.json_response(ticket_json(ticket))


async def assign_ticket(request: web.Request) -> web.Response:
    intake = request.app[INTAKE]
    body = mapping(await read_json(request), "body")
    no_unknown(body, {"assignee", "actor"}, "")
    assignee = person(body.get("assignee"), "assignee")
    actor = acting_person(request, _actor_field(body))
    try:
        ticket = await assign(request.app[STORES].engine, _id(request), assignee=assignee,
                              actor=actor, now=intake.now())
    except TicketNotFound:
        return error_response(404, "no such ticket")
    except ClosedTicket as exc:
        return error_response(409, str(exc), ticket_status=Status.CLOSED.value)
    log.info("ticket %d assigned to %s by %s", ticket.id, assignee, actor)
    return web.json_response(ticket_json(ticket))
