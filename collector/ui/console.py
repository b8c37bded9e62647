"""The console's queue and ticket pages, and what a person does from them.

Thin, as the API's handlers: parse the query or the form, call the same store and act
functions as the JSON API (collector/ticket_acts.py, the ticket store, store/assignment.py),
render. An acknowledgement here is the API's acknowledgement: the escalation stops the same way.
A form's bad value gets a 400 page naming the field; a move the lifecycle refuses a 409 page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from alerting.lifecycle import InvalidTransition
from alerting.ticket import Priority, Source, Status
from collector.app import INTAKE, ONCALL, STORES
from collector.auth import PERSON_RULE, person_name
from collector.store.assignment import ClosedTicket, assign
from collector.store.queue import Cursor, QueueFilter, newest_active_id, queue_page
from collector.store.tickets import TicketNotFound
from collector.ticket_acts import act
from collector.ui.render import ago, message, page
from collector.ui.session import USER, ConsoleUser, see_other

PAGE_SIZE = 50
MAX_ID = 2**63 - 1
FILTER_FIELDS = ("priority", "status", "source", "host", "service", "component", "team",
                 "mine")
ACTIVE = (Status.OPEN, Status.ACKNOWLEDGED)


class Refused(Exception):
    """A query or form value the page cannot take: 400 with the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")


def _text(value: str | None, field: str, *, max_length: int = 255) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > max_length:
        raise Refused(field, f"longer than {max_length} characters")
    if any(ord(c) < 32 or c == "\x7f" for c in value):
        raise Refused(field, "control characters are not allowed")
    return value


def _choice(value: str | None, kind: type, field: str) -> Any:
    if value is None or value == "":
        return None
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(m.value for m in kind)
        raise Refused(field, f"one of {names}, not {value[:40]!r}") from None


def _cursor(value: str | None) -> Cursor | None:
    if not value:
        return None
    parts = value.split("~")
    try:
        priority, moment, ident = Priority(parts[0]), datetime.fromisoformat(parts[1]), \
            int(parts[2])
    except (ValueError, IndexError):
        raise Refused("after", "not a page cursor of this queue") from None
    if len(parts) != 3 or moment.tzinfo is None or not 0 <= ident <= MAX_ID:
        raise Refused("after", "not a page cursor of this queue")
    try:
        # Years 1 to 9999 as written but not in UTC (9999-12-31T23:59:59-01:00): the query
        # would overflow converting it.
        moment.astimezone(UTC)
    except OverflowError:
        raise Refused("after", "not a page cursor of this queue") from None
    return Cursor(priority=priority, created_at=moment, id=ident)


def cursor_text(cursor: Cursor) -> str:
    return f"{cursor.priority.value}~{cursor.created_at.isoformat()}~{cursor.id}"


def _queue_filter(query, user: ConsoleUser) -> tuple[QueueFilter, dict[str, str]]:
    """The filter a queue URL asks for, and the filter's own parameters (for links)."""
    known = {*FILTER_FIELDS, "after", "since"}
    for name in query:
        if name not in known:
            raise Refused(name, "unknown query parameter")
    given = {name: query.get(name, "") for name in FILTER_FIELDS if query.get(name)}
    priority = _choice(query.get("priority"), Priority, "priority")
    status = _choice(query.get("status"), Status, "status")
    if status is not None and status not in ACTIVE:
        raise Refused("status", "the queue holds open and acknowledged tickets only")
    mine = query.get("mine", "")
    if mine not in ("", "1"):
        raise Refused("mine", "1 or nothing")
    search = QueueFilter(
        priority=(priority,) if priority else (), status=(status,) if status else (),
        source=_choice(query.get("source"), Source, "source"),
        host=_text(query.get("host"), "host"), service=_text(query.get("service"), "service"),
        component=_text(query.get("component"), "component"),
        team=_text(query.get("team"), "team"),
        assignee=user.name if mine == "1" else None,
        after=_cursor(query.get("after")), limit=PAGE_SIZE)
    return search, given


def _since(query) -> int | None:
    value = query.get("since")
    if value is None:
        return None
    # isdigit() alone lets "²" and "٣" through, which int() refuses.
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        raise Refused("since", "a ticket id")
    return int(value)


async def _queue_values(request: web.Request) -> dict[str, Any]:
    user: ConsoleUser = request[USER]
    search, given = _queue_filter(request.query, user)
    since = _since(request.query)
    engine = request.app[STORES].engine
    found = await queue_page(engine, search)
    now = request.app[INTAKE].now()
    next_link = None
    if found.next is not None:
        next_link = "/ui/queue?" + urlencode({**given, "after": cursor_text(found.next)})
    teams = sorted(t.name for t in request.app[ONCALL].schedules.teams) \
        if request.app.get(ONCALL) is not None else []
    return {"rows": found.rows, "counts": found.counts, "given": given, "now": now,
            "ago": ago, "next_link": next_link, "first_page": search.after is None,
            "newest": await newest_active_id(engine), "since": since, "teams": teams,
            "priorities": list(Priority), "sources": list(Source), "statuses": ACTIVE,
            "live_query": urlencode(given)}


async def queue(request: web.Request) -> web.Response:
    try:
        values = await _queue_values(request)
    except Refused as exc:
        return message(request, 400, "Not a queue filter", str(exc))
    return page(request, "queue.html", **values)


async def queue_rows(request: web.Request) -> web.Response:
    """The live part of the queue's first page (counts and rows), for console.js to swap in;
    rows newer than `since` are marked new."""
    try:
        values = await _queue_values(request)
    except Refused as exc:
        return message(request, 400, "Not a queue filter", str(exc))
    return page(request, "queue_live.html", **values)


# -- one ticket ----------------------------------------------------------------------------

def _ticket_id(request: web.Request) -> int | None:
    raw = request.match_info["id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_ID:
        return None
    return int(raw)


async def ticket(request: web.Request) -> web.Response:
    ticket_id = _ticket_id(request)
    if request.query:
        return message(request, 400, "Not a ticket page",
                       f"{sorted(request.query)[0]}: unknown query parameter")
    store = request.app[INTAKE].tickets
    found = await store.get(ticket_id) if ticket_id is not None else None
    if found is None:
        return message(request, 404, "No such ticket", "no such ticket")
    timeline = await store.timeline(found.id)
    children = await store.children(found.id)
    oncall = request.app.get(ONCALL)
    escalation = notifications = None
    if oncall is not None:
        escalation = await oncall.escalator.store.get(found.id)
        notifications = await oncall.notifier.store.list(ticket_id=found.id, limit=200)
    created = next((e for e in timeline if e.kind == "created"), None)
    reasons = list(created.data.get("reasons", ())) if created else []
    from collector.ui.host_pages import host_facts

    host = await host_facts(request, found.host) if found.host else None
    user: ConsoleUser = request[USER]
    return page(request, "ticket.html", ticket=found, timeline=timeline, children=children,
                escalation=escalation, notifications=notifications or [], reasons=reasons,
                created=created, host=host, now=request.app[INTAKE].now(), ago=ago,
                can_act=user.may("respond"), priorities=list(Priority),
                labels=found.details.get("labels") if isinstance(found.details, dict) else None)


async def _form(request: web.Request) -> dict[str, str]:
    """The form's text fields; Refused for a NUL in any (PostgreSQL stores none: the API
    refuses it too, and the console's notes and reasons were 500s there)."""
    form = await request.post()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    for key, value in fields.items():
        if "\x00" in value:
            raise Refused(key[:40], "must not contain NUL characters")
    return fields


def _back(ticket_id: int) -> web.Response:
    return see_other(f"/ui/ticket/{ticket_id}")


async def _transition(request: web.Request, action) -> web.Response:
    ticket_id = _ticket_id(request)
    if ticket_id is None:
        return message(request, 404, "No such ticket", "no such ticket")
    try:
        form = await _form(request)
    except Refused as exc:
        return message(request, 400, "Not done", str(exc))
    note = (form.get("note") or "").strip() or None
    if note is not None and len(note) > 20_000:
        return message(request, 400, "Not done", "note: longer than 20000 characters")
    user: ConsoleUser = request[USER]
    try:
        await act(request.app[INTAKE], ticket_id, action, actor=user.name, note=note)
    except TicketNotFound:
        return message(request, 404, "No such ticket", "no such ticket")
    except InvalidTransition as exc:
        return message(request, 409, "Not possible now", str(exc))
    return _back(ticket_id)


async def acknowledge(request: web.Request) -> web.Response:
    return await _transition(request, "ack")


async def resolve(request: web.Request) -> web.Response:
    return await _transition(request, "resolve")


async def close(request: web.Request) -> web.Response:
    return await _transition(request, "close")


async def note(request: web.Request) -> web.Response:
    ticket_id = _ticket_id(request)
    if ticket_id is None:
        return message(request, 404, "No such ticket", "no such ticket")
    try:
        text = ((await _form(request)).get("text") or "").strip()
    except Refused as exc:
        return message(request, 400, "Note not added", str(exc))
    if not text or len(text) > 20_000:
        return message(request, 400, "Note not added", "text: 1 to 20000 characters")
    intake, user = request.app[INTAKE], request[USER]
    try:
        await intake.tickets.add_note(ticket_id, actor=user.name, text=text, now=intake.now())
    except TicketNotFound:
        return message(request, 404, "No such ticket", "no such ticket")
    return _back(ticket_id)


async def override_priority(request: web.Request) -> web.Response:
    ticket_id = _ticket_id(request)
    if ticket_id is None:
        return message(request, 404, "No such ticket", "no such ticket")
    try:
        form = await _form(request)
        priority = _choice(form.get("priority"), Priority, "priority")
    except Refused as exc:
        return message(request, 400, "Priority not changed", str(exc))
    reason = (form.get("reason") or "").strip()
    if priority is None:
        return message(request, 400, "Priority not changed", "priority: required")
    if not reason or len(reason) > 2000:
        return message(request, 400, "Priority not changed",
                       "reason: required, up to 2000 characters")
    intake, user = request.app[INTAKE], request[USER]
    try:
        await intake.tickets.override_priority(ticket_id, priority=priority, reason=reason,
                                               actor=user.name, now=intake.now())
    except TicketNotFound:
        return message(request, 404, "No such ticket", "no such ticket")
    if intake.on_change is not None:   # the escalation starts over: sweep now (as the API)
        intake.on_change()
    return _back(ticket_id)


async def assign_ticket(request: web.Request) -> web.Response:
    ticket_id = _ticket_id(request)
    if ticket_id is None:
        return message(request, 404, "No such ticket", "no such ticket")
    try:
        assignee = ((await _form(request)).get("assignee") or "").strip()
    except Refused as exc:
        return message(request, 400, "Not assigned", str(exc))
    try:
        person_name(assignee)
    except ValueError:
        return message(request, 400, "Not assigned", f"assignee: {PERSON_RULE}")
    intake, user = request.app[INTAKE], request[USER]
    try:
        await assign(request.app[STORES].engine, ticket_id, assignee=assignee,
                     actor=user.name, now=intake.now())
    except TicketNotFound:
        return message(request, 404, "No such ticket", "no such ticket")
    except ClosedTicket as exc:
        return message(request, 409, "Not assigned", str(exc))
    return _back(ticket_id)
