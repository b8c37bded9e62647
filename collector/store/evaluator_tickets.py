"""The embedded evaluator's active tickets, which it resumes from after a restart or when it
takes over from another collector (alerting.rules.resumed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.rules import ORIGIN
from collector.store.ticket_rows import IS_ACTIVE, TICKETS


async def active_evaluator_tickets(engine: AsyncEngine
                                   ) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(dedup_key, host, details) of every open or acknowledged ticket the evaluator opened,
    attached ones included."""
    query = (select(TICKETS.c.dedup_key, TICKETS.c.host, TICKETS.c.details)
             .where(TICKETS.c.origin == ORIGIN, IS_ACTIVE).order_by(TICKETS.c.id))
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [(key, host, dict(details or {})) for key, host, details in rows]
