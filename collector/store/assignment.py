"""Who works a ticket: assigning it to a person, with a timeline row saying who did and from
whom it was taken. (Acknowledging takes an unassigned ticket too: collector/store/tickets.py.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.ticket import Status
from collector.store.engine import write_transaction
from collector.store.ticket_rows import EVENTS, TICKETS, event_row
from collector.store.tickets import Ticket, TicketNotFound


class ClosedTicket(ValueError):
    """A closed ticket is history: it is not handed to anyone any more."""


async def assign(engine: AsyncEngine, ticket_id: int, *, assignee: str, actor: str,
                 now: datetime) -> Ticket:
    """Give the ticket to `assignee`; TicketNotFound, or ClosedTicket for a closed one."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    current = select(TICKETS.c.status, TICKETS.c.assignee).where(TICKETS.c.id == ticket_id)
    if engine.dialect.name == "postgresql":
        current = current.with_for_update(key_share=True)
    async with write_transaction(engine) as connection:
        found = (await connection.execute(current)).first()
        if found is None:
            raise TicketNotFound(ticket_id)
        if found.status is Status.CLOSED:
            raise ClosedTicket(f"ticket {ticket_id} is closed")
        row = (await connection.execute(
            update(TICKETS).where(TICKETS.c.id == ticket_id)
            .values(assignee=assignee, updated_at=now).returning(*TICKETS.c))).one()
        before = f" (was {found.assignee})" if found.assignee else ""
        await connection.execute(EVENTS.insert(), [event_row(
            ticket_id, now, "assigned", actor, f"assigned to {assignee} by {actor}{before}",
            {"from": found.assignee, "to": assignee})])
    return Ticket(**row._mapping)
