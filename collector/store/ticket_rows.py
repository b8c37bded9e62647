"""What the ticket store (tickets.py) and the batch of monitoring signals (signal_batch.py)
both write: the tickets and ticket_events tables, "is active" as SQL, and the timeline rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import text

from alerting.priority import Assessment
from collector.store.models import ACTIVE_PREDICATE, TicketEventRow, TicketRow

TICKETS = TicketRow.__table__
EVENTS = TicketEventRow.__table__
# "Is active", written exactly as the partial unique index's predicate: SQLite (and a
# PostgreSQL generic plan) use a partial index only for a query that repeats its predicate,
# and `status IN (?, ?)` with parameters does not.
IS_ACTIVE = text(ACTIVE_PREDICATE)


def event_row(ticket_id: int | None, at: datetime, kind: str, actor: str, message: str,
              data: Mapping[str, Any]) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "at": at, "kind": kind, "actor": actor, "message": message,
            "data": dict(data)}


def created_event_row(ticket_id: int | None, at: datetime, actor: str, assessment: Assessment,
                      *, systems_affected: int | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "priority": assessment.priority.value, "impact": assessment.impact.value,
        "urgency": assessment.urgency.value, "reasons": list(assessment.reasons),
    }
    if systems_affected is not None:
        data["systems_affected"] = systems_affected
    message = f"opened at {assessment.priority.value}: " + "; ".join(assessment.reasons)
    return event_row(ticket_id, at, "created", actor, message, data)
