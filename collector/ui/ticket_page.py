"""Render the ticket page and the one-click pages as HTML strings.

Pure: tickets, timeline entries and ready-made URLs in, a page out; the handlers
(collector/ui/handlers.py, collector/handlers/actions.py) decide what to show and mint the
signed links. Every value from a ticket or a person goes through `html.escape` exactly once,
here, before it reaches a template.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from collector.store.tickets import Ticket, TimelineEntry
from collector.ui import templates

# Headers for every page: nothing cached (the pages carry capabilities in their URLs and
# forms), no referrer leaking those URLs, not framed.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                      "form-action 'self'; frame-ancestors 'none'"}

_VERBS = {"ack": ("Acknowledge", "ack"), "resolve": ("Resolve", "resolve")}


@dataclass(frozen=True, slots=True)
class Button:
    act: str          # ack or resolve
    url: str          # where the form POSTs (a one-click link)


@dataclass(frozen=True, slots=True)
class Outcome:
    text: str
    kind: str = "done"     # done, already or refused: how it is shown


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _facts(ticket: Ticket) -> str:
    rows = [
        ("Priority", ticket.priority.value), ("Status", ticket.status.value),
        ("Host", ticket.host), ("Service", ticket.service), ("Component", ticket.component),
        ("Assignee", ticket.assignee), ("Opened", when(ticket.created_at)),
        ("Acknowledged", when(ticket.acknowledged_at) if ticket.acknowledged_at else None),
        ("Resolved", when(ticket.resolved_at) if ticket.resolved_at else None),
        ("Occurrences", ticket.occurrences if ticket.occurrences > 1 else None),
    ]
    return "".join(templates.FACT.substitute(label=_e(label), value=_e(value))
                   for label, value in rows if value)


def _buttons(buttons: Sequence[Button]) -> str:
    return "".join(templates.BUTTON.substitute(action=_e(b.url), label=_VERBS[b.act][0],
                                               css=_VERBS[b.act][1]) for b in buttons)


def _outcome(outcome: Outcome | None) -> str:
    if outcome is None:
        return ""
    return templates.OUTCOME.substitute(css=_e(outcome.kind), text=_e(outcome.text))


def _page(title: str, body: str) -> str:
    return templates.PAGE.substitute(title=_e(title), body=body)


def ticket_page(ticket: Ticket, timeline: Sequence[TimelineEntry], *,
                buttons: Sequence[Button] = (), outcome: Outcome | None = None,
                footer: str = "") -> str:
    """The whole ticket: facts, what can be done, the timeline (oldest first)."""
    events = "".join(templates.EVENT.substitute(
        at=_e(when(e.at).removesuffix(" UTC")), kind=_e(e.kind.replace("_", " ")),
        actor=_e(e.actor or "-"), message=_e(e.message)) for e in timeline)
    body = templates.TICKET.substitute(
        priority=_e(ticket.priority.value), id=ticket.id, summary=_e(ticket.summary),
        outcome=_outcome(outcome), facts=_facts(ticket), buttons=_buttons(buttons),
        timeline=events, footer=_e(footer))
    return _page(f"#{ticket.id} {ticket.summary}", body)


def action_page(ticket: Ticket, *, heading: str, buttons: Sequence[Button] = (),
                outcome: Outcome | None = None, ticket_url: str | None = None,
                footer: str = "") -> str:
    """A one-click link's page: what it will do (a button), or what was done (none)."""
    link = (f'<a href="{_e(ticket_url)}">Open the ticket with its timeline</a>'
            if ticket_url else "")
    body = templates.ACTION.substitute(
        heading=_e(heading), priority=_e(ticket.priority.value), id=ticket.id,
        summary=_e(ticket.summary), facts=_facts(ticket), outcome=_outcome(outcome),
        buttons=_buttons(buttons), ticket_link=link, footer=_e(footer))
    return _page(heading, body)


def message_page(heading: str, text: str) -> str:
    """A refusal a person can read (an expired or tampered link)."""
    return _page(heading, templates.MESSAGE.substitute(heading=_e(heading), text=_e(text)))
