"""One notification about one ticket, rendered once per channel: JSON, a subject, plain text.

A `Notification` is built by the escalation side (who is told, at which step, why) and handed
to a channel as plain data. Its JSON shape (`to_json()`, documented in docs/oncall.md) is what
webhook receivers and the `file` channel see; version 1 only ever gains keys::

    {"version": 1, "kind": "trigger", "ticket_id": 42, "priority": "P1", "status": "open",
     "summary": "Disk /var 97% full", "host": "web1", "component": "disk",
     "step": "step 1 of 3", "reason": "new P1 ticket", "recipient": "alice",
     "occurred_at": "2024-05-01T12:00:00Z",
     "links": {"ticket": "...", "ack": "...", "resolve": "...", "runbook": null}}

The ack and resolve URLs carry signed one-click tokens, the ticket URL a signed read-only
view token (alerting/notify/links.py): they are capabilities, so they are left out of repr()
and therefore out of logs of the object.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Kind = Literal["trigger", "escalate", "reacknowledge", "priority_changed", "resolve"]
PriorityName = Literal["P1", "P2", "P3", "P4"]

KINDS: tuple[str, ...] = get_args(Kind)
PRIORITIES: tuple[str, ...] = get_args(PriorityName)
SCHEMA_VERSION = 1

# What a person reads first, per kind (subject prefix is the priority; this is the verb).
_HEADLINES: dict[str, str] = {
    "trigger": "New ticket",
    "escalate": "Escalated ticket",
    "reacknowledge": "Acknowledgement expired",
    # A person changed the priority and the escalation starts over: not a new ticket.
    "priority_changed": "Priority changed on ticket",
    "resolve": "Resolved ticket",
}


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed: safe for a mail header or a chat title."""
    return " ".join(text.split())


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    ticket_id: int
    kind: Kind
    priority: PriorityName
    summary: str
    status: str                       # the ticket's status when this was sent
    occurred_at: dt.datetime          # timezone-aware: when the event behind it happened
    host: str | None = None
    component: str | None = None
    runbook_url: str | None = None
    step: str | None = None           # escalation step, e.g. "step 2 of 3: secondary on-call"
    reason: str | None = None         # why this person is told now
    recipient: str | None = None      # person name; None for a channel that is no one's
    ticket_url: str | None = field(default=None, repr=False)
    ack_url: str | None = field(default=None, repr=False)
    resolve_url: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.priority not in PRIORITIES:
            raise ValueError(f"priority must be one of P1..P4, not {self.priority!r}")
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape (version 1); keys are only ever added."""
        return {
            "version": SCHEMA_VERSION,
            "kind": self.kind,
            "ticket_id": self.ticket_id,
            "priority": self.priority,
            "status": self.status,
            "summary": self.summary,
            "host": self.host,
            "component": self.component,
            "step": self.step,
            "reason": self.reason,
            "recipient": self.recipient,
            "occurred_at": iso_utc(self.occurred_at),
            "links": {
                "ticket": self.ticket_url,
                "ack": self.ack_url,
                "resolve": self.resolve_url,
                "runbook": self.runbook_url,
            },
        }

    def subject(self) -> str:
        """``[P1] summary (host)``, on one line."""
        where = f" ({one_line(self.host)})" if self.host else ""
        resolved = "RESOLVED: " if self.kind == "resolve" else ""
        return f"[{self.priority}] {resolved}{one_line(self.summary)}{where}"

    def headline(self) -> str:
        return f"{_HEADLINES[self.kind]} #{self.ticket_id}"

    def facts(self) -> list[tuple[str, str]]:
        """The labelled lines every rendering shows, in order; unset ones left out."""
        rows = [
            ("Priority", self.priority),
            ("Status", self.status),
            ("Host", self.host),
            ("Component", self.component),
            ("Step", self.step),
            ("Reason", self.reason),
            ("For", self.recipient),
            ("When", iso_utc(self.occurred_at)),
        ]
        return [(label, one_line(value)) for label, value in rows if value]

    def links(self) -> list[tuple[str, str]]:
        """(label, url) of the actions a person can take, in the order they are offered."""
        rows = [
            ("Acknowledge", self.ack_url),
            ("Resolve", self.resolve_url),
            ("Open ticket", self.ticket_url),
            ("Runbook", self.runbook_url),
        ]
        return [(label, url) for label, url in rows if url]

    def text(self) -> str:
        """The plain-text body (email text part, chat fallback)."""
        lines = [f"{self.headline()}: {one_line(self.summary)}", ""]
        lines += [f"{label}: {value}" for label, value in self.facts()]
        links = self.links()
        if links:
            lines.append("")
            lines += [f"{label}: {url}" for label, url in links]
        return "\n".join(lines) + "\n"
