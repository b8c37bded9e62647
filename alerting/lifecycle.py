"""The ticket lifecycle: open -> acknowledged -> resolved -> closed, as one transition table.

Pure: `transition(status, event)` returns the new status or raises `InvalidTransition` with a
reason an API client can show. Monitoring can resolve an open or acknowledged ticket; a
person can also resolve an open one directly (no need to acknowledge first), and close a
resolved one. Re-opening is not a transition: a trigger after resolve opens a new ticket, as
PagerDuty does, so history stays intact.
"""

from __future__ import annotations

import enum

from alerting.ticket import Status


class Event(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    CLOSE = "close"


class InvalidTransition(ValueError):
    def __init__(self, status: Status, event: Event) -> None:
        allowed = sorted(e.value for (s, e) in TRANSITIONS if s == status)
        hint = f"; from {status.value} it can: {', '.join(allowed)}" if allowed else ""
        super().__init__(f"cannot {event.value} a ticket that is {status.value}{hint}")
        self.status = status
        self.event = event


TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (Status.OPEN, Event.ACKNOWLEDGE): Status.ACKNOWLEDGED,
    (Status.OPEN, Event.RESOLVE): Status.RESOLVED,
    (Status.ACKNOWLEDGED, Event.RESOLVE): Status.RESOLVED,
    (Status.RESOLVED, Event.CLOSE): Status.CLOSED,
}


def transition(status: Status, event: Event) -> Status:
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise InvalidTransition(status, event) from None
