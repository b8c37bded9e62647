"""The one-click acknowledge/resolve links that notifications carry.

The links are signed, expiring, single-purpose capabilities (alerting/notify/links.py): the
token in the path is the credential, so these routes need no bearer token. Opening a link
(GET) only shows what it will do, behind a button that POSTs: mail scanners and chat link
previews fetch links on their own, and must not acknowledge a page nobody has read. Each link
works once (its nonce is recorded in `action_uses`, with who acted), so opening it again
shows what was done, by whom and when, and no button.

A link is issued to the person the notification went to; what it does is recorded as theirs
("alice (one-click link)"). A browser (a form post, or `Accept: text/html`) gets a page that
says what happened; a program gets the ticket as JSON.
"""

from __future__ import annotations

from aiohttp import web

from alerting.lifecycle import InvalidTransition
from alerting.notify.links import ActionClaim, LinkError, action_url, verify_action
from collector.app import INTAKE, ONCALL, STORES
from collector.handlers.tickets import acted_json
from collector.payloads.fields import BadPayload
from collector.query import Path, PathWord
from collector.store.actions import find_use, release_use, use_action
from collector.store.tickets import Ticket, TicketNotFound
from collector.ticket_acts import OUTCOMES, last_move
from collector.ticket_acts import act as do_act
from collector.ui.handlers import (
    buttons_for,
    html_response,
    links_of,
    refusal,
    view_url,
    wants_html,
)
from collector.ui.ticket_page import Button, Outcome, action_page, when

LINK = "one-click link"
_VERBS = {"ack": "Acknowledge", "resolve": "Resolve"}


def actor_of(claim: ActionClaim) -> str:
    """Who the timeline names: the person the link was issued to, and how they acted."""
    return f"{claim.recipient} ({LINK})" if claim.recipient else LINK


# The token a signed link carries (alerting/notify/links.py: URL-safe base64 and dots).
LINK_PATH = Path(PathWord(name="token", pattern="[A-Za-z0-9_.-]{1,512}",
                          rule="not a link token (1 to 512 letters, digits, '_', '.', '-')"))


def _claim(request: web.Request) -> ActionClaim | web.Response:
    links = links_of(request)
    try:
        token = LINK_PATH.parse(request)["token"]
    except BadPayload as exc:
        return refusal(request, 400, "This link does not work", str(exc))
    try:
        return verify_action(links.secret, token, request.app[INTAKE].now())
    except LinkError as exc:
        return refusal(request, 403, "This link does not work", f"link refused: {exc.reason}")


def _page(request: web.Request, claim: ActionClaim, ticket: Ticket, *, heading: str,
          outcome: Outcome | None = None, buttons=(), status: int = 200) -> web.Response:
    links = links_of(request)
    footer = (f"This link works once and expires {when(claim.expires_at)}."
              if buttons else "")
    return html_response(action_page(
        ticket, heading=heading, buttons=buttons, outcome=outcome, footer=footer,
        ticket_url=view_url(links, ticket.id, claim.recipient, claim.expires_at)), status)


async def action_page_get(request: web.Request) -> web.Response:
    claim = _claim(request)
    if isinstance(claim, web.Response):
        return claim
    intake = request.app[INTAKE]
    ticket = await intake.tickets.get(claim.ticket_id)
    if ticket is None:
        return refusal(request, 404, "No such ticket", "no such ticket")
    target, kind, done = OUTCOMES[claim.action]
    use = await find_use(request.app[STORES].engine, claim)
    if use is not None:
        text = f"This link was used: {done} by {use.actor or 'someone'} at {when(use.used_at)}."
        return _page(request, claim, ticket, heading=f"Ticket #{ticket.id} {done}",
                     outcome=Outcome(text, "already"))
    if ticket.status is target:
        by, at = await last_move(intake, ticket.id, kind, fallback_at=ticket.updated_at)
        return _page(request, claim, ticket, heading=f"Ticket #{ticket.id} already {done}",
                     outcome=Outcome(f"Already {done} by {by} at {when(at)}.", "already"))
    buttons = [b for b in buttons_for(links_of(request), ticket.id, ticket.status,
                                      claim.recipient, claim.expires_at, intake.now())
               if b.act == claim.action]
    if not buttons:   # the ticket moved past what this link does (resolved, closed)
        return _page(request, claim, ticket, heading=f"Ticket #{ticket.id} is "
                                                     f"{ticket.status.value}",
                     outcome=Outcome(f"Nothing to {claim.action}: the ticket is "
                                     f"{ticket.status.value}.", "already"))
    # The button posts to this very link, at the collector's public URL.
    here = action_url(links_of(request).base_url, LINK_PATH.parse(request)["token"])
    return _page(request, claim, ticket, heading=f"{_VERBS[claim.action]} ticket "
                                                 f"#{ticket.id}?",
                 buttons=[Button(claim.action, here)])


async def action_post(request: web.Request) -> web.Response:
    claim = _claim(request)
    if isinstance(claim, web.Response):
        return claim
    intake = request.app[INTAKE]
    engine = request.app[STORES].engine
    actor = actor_of(claim)
    _, _, done = OUTCOMES[claim.action]
    if not await use_action(engine, claim, now=intake.now(), actor=actor):
        use = await find_use(engine, claim)
        detail = (f": {done} by {use.actor or 'someone'} at {when(use.used_at)}"
                  if use is not None else "")
        return await _refused(request, claim, 409, f"this link was used already{detail}")
    try:
        acted = await do_act(intake, claim.ticket_id, claim.action, actor=actor,
                             person=claim.recipient)
    except TicketNotFound:
        await release_use(engine, claim)
        return refusal(request, 404, "No such ticket", "no such ticket")
    except InvalidTransition as exc:
        await release_use(engine, claim)   # nothing was done through it
        return await _refused(request, claim, 409, str(exc))
    request.app[ONCALL].escalator.wake()
    if not wants_html(request):
        return web.json_response(acted_json(acted))
    return _page(request, claim, acted.ticket, heading=f"Ticket #{acted.ticket.id} {done}",
                 outcome=Outcome(f"{acted.sentence()[0].upper()}{acted.sentence()[1:]}.",
                                 "already" if acted.already else "done"))


async def _refused(request: web.Request, claim: ActionClaim, status: int,
                   reason: str) -> web.Response:
    if not wants_html(request):
        return web.json_response({"error": reason}, status=status)
    ticket = await request.app[INTAKE].tickets.get(claim.ticket_id)
    if ticket is None:
        return refusal(request, 404, "No such ticket", "no such ticket")
    return _page(request, claim, ticket, heading=f"Ticket #{ticket.id}",
                 outcome=Outcome(reason[0].upper() + reason[1:] + ".", "refused"), status=status)
