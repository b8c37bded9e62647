"""What a person does to a ticket (acknowledge, resolve, close), the same for every way in:
the API, the CLI (through the API) and the one-click links in notifications.

Asking for the state a ticket is already in is not an error: acknowledging an acknowledged
ticket answers who acknowledged it and when, and keeps the note; the person clicked late or
twice, and needs to know the ticket is in hand, not a 409. A move the lifecycle refuses
(acknowledging a resolved ticket) is still `InvalidTransition`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from alerting.lifecycle import InvalidTransition
from alerting.ticket import Status
from collector.intake import Intake
from collector.store.tickets import Ticket

log = logging.getLogger("regie.collector.tickets")

Act = Literal["ack", "resolve", "close"]

# act -> (the status it leads to, the timeline kind that recorded it, the past tense)
OUTCOMES: dict[str, tuple[Status, str, str]] = {
    "ack": (Status.ACKNOWLEDGED, "acknowledged", "acknowledged"),
    "resolve": (Status.RESOLVED, "resolved", "resolved"),
    "close": (Status.CLOSED, "closed", "closed"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Acted:
    ticket: Ticket
    act: str
    by: str              # who did it: this actor, or whoever did it before (`already`)
    at: datetime
    already: bool        # the ticket was in that state already; only the note was added

    @property
    def done(self) -> str:
        return OUTCOMES[self.act][2]

    def sentence(self) -> str:
        """"acknowledged by alice at 03:12 UTC" (with "already" when it was)."""
        head = f"already {self.done}" if self.already else self.done
        return f"{head} by {self.by} at {self.at.strftime('%Y-%m-%d %H:%M')} UTC"


async def act(intake: Intake, ticket_id: int, act: Act, *, actor: str,
              note: str | None = None, person: str | None = None) -> Acted:
    """Do `act` as `actor` (the person behind it, when `actor` names the way too);
    TicketNotFound, or InvalidTransition when the lifecycle refuses."""
    tickets = intake.tickets
    now = intake.now()
    target, kind, _ = OUTCOMES[act]
    try:
        if act == "ack":
            ticket = await tickets.acknowledge(ticket_id, actor=actor, now=now, person=person)
            intake.acknowledged(ticket)
        elif act == "resolve":
            ticket = await tickets.resolve(ticket_id, actor=actor, now=now, note=note)
            intake.resolved(ticket.priority, ticket.component, ticket.created_at)
        else:
            ticket = await tickets.close(ticket_id, actor=actor, now=now)
    except InvalidTransition as exc:
        if exc.status is not target:
            raise
        ticket = await tickets.get(ticket_id)
        if ticket is None:  # deleted meanwhile: as good as not found
            raise
        by, at = await last_move(intake, ticket_id, kind, fallback_at=ticket.updated_at)
        if note:
            await tickets.add_note(ticket_id, actor=actor, text=note, now=now)
        log.info("ticket %d: %s %s; already %s by %s", ticket_id, actor, act, kind, by)
        return Acted(ticket=ticket, act=act, by=by, at=at, already=True)
    if note and act != "resolve":   # a resolve keeps its note in its own timeline row
        await tickets.add_note(ticket.id, actor=actor, text=note, now=now)
    log.info("ticket %d %s by %s (%s)", ticket.id, kind, actor, ticket.priority.value)
    return Acted(ticket=ticket, act=act, by=actor, at=now, already=False)


async def last_move(intake: Intake, ticket_id: int, kind: str, *,
                fallback_at: datetime) -> tuple[str, datetime]:
    """Who made the ticket's latest `kind` move, and when (from its timeline)."""
    for entry in reversed(await intake.tickets.timeline(ticket_id)):
        if entry.kind == kind:
            return entry.actor, entry.at
    return "someone", fallback_at
