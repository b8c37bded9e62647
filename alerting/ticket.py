"""The ticket vocabulary every part speaks: statuses, sources, urgency, priority, signals.

A `Signal` is one normalized incoming fact about a problem (an Alertmanager alert, an Events
API event, an embedded-evaluator breach), produced by parsing at the edge and consumed by the
store. User reports come in as `UserReport`. Both end up as tickets in one queue.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Status(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CLOSED = "closed"


# At most one ticket per dedup key is in one of these (the database enforces it).
ACTIVE_STATUSES = frozenset({Status.OPEN, Status.ACKNOWLEDGED})


class Source(enum.StrEnum):
    MONITORING = "monitoring"
    USER = "user"


class Action(enum.StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class Urgency(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Criticality(enum.StrEnum):
    """How much the business depends on a system; also the scale of a ticket's impact."""

    BUSINESS_CRITICAL = "business-critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Priority(enum.StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Recovery(enum.StrEnum):
    """What a recovered alert does to its ticket (per rule)."""

    RESOLVE = "resolve"      # the ticket resolves by itself
    CONFIRM = "confirm"      # the ticket is marked recovered and waits for a human to resolve it


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal:
    """One normalized monitoring fact. `dedup_key` identifies the problem across repeats."""

    dedup_key: str
    action: Action
    origin: str                      # "alertmanager" | "events" | "evaluator"
    summary: str
    occurred_at: datetime            # timezone-aware
    host: str | None = None
    service: str | None = None
    component: str | None = None
    urgency: Urgency = Urgency.MEDIUM
    recovery: Recovery = Recovery.RESOLVE
    # This alert says the host itself is down: while its ticket is active, the host's other
    # alerts attach to it instead of opening their own (inhibition).
    host_down: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserReport:
    """A problem reported by a person."""

    summary: str
    description: str = ""
    reporter: str
    host: str | None = None
    service: str | None = None
    component: str | None = None
    impact: Criticality = Criticality.MEDIUM   # as the reporter sees it
    urgency: Urgency = Urgency.MEDIUM
