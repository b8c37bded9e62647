"""The read-only ticket page a notification's "ticket" link opens, and the signed links the
pages carry.

`GET /ui/tickets/{id}?key=<view token>`: the token (alerting/notify/links.py, purpose
`view`) is the credential, as for the one-click links: signed, expiring, for one ticket, and
read-only; it may be opened any number of times. The page shows the ticket, its timeline,
and Acknowledge / Resolve buttons while those are possible: each button is a fresh one-click
link issued to the same person, POSTing to /api/v1/actions/ (collector/handlers/actions.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from aiohttp import web

from alerting.notify.links import (
    LinkError,
    action_url,
    sign_action,
    sign_view,
    ticket_page_url,
    verify_view,
)
from alerting.ticket import Status
from collector.app import INTAKE, ONCALL
from collector.handlers.tickets import TICKET_PATH
from collector.payloads.fields import BadPayload
from collector.ui.ticket_page import HEADERS, Button, message_page, ticket_page, when

# What a person may still do to a ticket in each status, in the order the buttons show.
ACTS_BY_STATUS: dict[Status, tuple[str, ...]] = {
    Status.OPEN: ("ack", "resolve"),
    Status.ACKNOWLEDGED: ("resolve",),
}


def wants_html(request: web.Request) -> bool:
    """A browser: a form post, or an Accept header naming HTML. API clients get JSON."""
    return (request.content_type == "application/x-www-form-urlencoded"
            or "text/html" in request.headers.get("Accept", ""))


def html_response(page: str, status: int = 200) -> web.Response:
    return web.Response(text=page, status=status, content_type="text/html", headers=HEADERS)


def refusal(request: web.Request, status: int, heading: str, reason: str) -> web.Response:
    """A refusal: a page for a person, JSON with the reason for a program."""
    if wants_html(request):
        return html_response(message_page(heading, reason), status)
    return web.json_response({"error": reason}, status=status)


def links_of(request: web.Request):
    """The link settings (base URL, secret, expiry), or a 404 when links are off."""
    oncall = request.app.get(ONCALL)
    links = getattr(oncall, "links", None)
    if links is None:
        raise web.HTTPNotFound(text=json.dumps({"error": "signed links are off: set "
                                                         "oncall.link_secret_file"}),
                               content_type="application/json")
    return links


def buttons_for(links, ticket_id: int, status: Status, recipient: str | None,
                until: datetime, now: datetime) -> list[Button]:
    """Fresh one-click links for what can still be done, valid no longer than `until`."""
    expires = min(until, now + timedelta(seconds=links.expires_seconds))
    return [Button(act, action_url(links.base_url, sign_action(
                links.secret, ticket_id, act, expires, recipient=recipient)))  # type: ignore[arg-type]
            for act in ACTS_BY_STATUS.get(status, ())]


def view_url(links, ticket_id: int, recipient: str | None, until: datetime) -> str:
    return ticket_page_url(links.base_url, ticket_id,
                           sign_view(links.secret, ticket_id, until, recipient=recipient))


async def show(request: web.Request) -> web.Response:
    links = links_of(request)
    try:
        ticket_id = TICKET_PATH.parse(request)["id"]
    except BadPayload as exc:
        return refusal(request, 400, "Not a ticket link", str(exc))
    unknown = set(request.query) - {"key"}
    if unknown:
        return refusal(request, 400, "Not a ticket link",
                       f"{sorted(unknown)[0]}: unknown query parameter")
    intake = request.app[INTAKE]
    now = intake.now()
    try:
        claim = verify_view(links.secret, request.query.get("key", ""), now)
    except LinkError as exc:
        return refusal(request, 403, "This ticket link does not open",
                       f"link refused: {exc.reason}")
    if claim.ticket_id != ticket_id:
        return refusal(request, 403, "This ticket link does not open",
                       "link refused: it is for another ticket")
    ticket = await intake.tickets.get(ticket_id) if ticket_id is not None else None
    if ticket is None:
        return refusal(request, 404, "No such ticket", "no such ticket")
    timeline = await intake.tickets.timeline(ticket_id)
    buttons = buttons_for(links, ticket_id, ticket.status, claim.recipient, claim.expires_at,
                          now)
    holder = f" for {claim.recipient}" if claim.recipient else ""
    footer = (f"Read-only page{holder}, as of {when(now)}. This link works until "
              f"{when(claim.expires_at)}; whoever holds it can see the ticket and use its "
              f"buttons: do not forward it.")
    return html_response(ticket_page(ticket, timeline, buttons=buttons, footer=footer))
