"""The change calendar as iCalendar (RFC 5545): one event per change, one per freeze.

A change's UID is its id, so a subscribed calendar updates an event when its change moves
(SEQUENCE counts its timeline's changes through `updated_at`), and a freeze's UID is derived
from its period and reason. Conflicts are written into the event's description.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from alerting.changes import Conflict, Freeze
from alerting.ical import ical_fold, ical_text
from collector.store.changes import Change


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def to_ical(changes: Iterable[Change], conflicts: Mapping[int, Sequence[Conflict]],
            freezes: Iterable[Freeze], now: datetime) -> str:
    stamp = _time(now)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Regie//Change calendar//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:Regie changes"]
    for change in changes:
        warnings = [c.message for c in conflicts.get(change.id, ())]
        description = "\n".join([
            f"type: {change.type.value}", f"status: {change.status.value}",
            f"risk: {change.risk_level}", f"author: {change.author}",
            f"hosts: {', '.join(change.hosts) or '-'}",
            f"services: {', '.join(change.services) or '-'}",
            f"time zone: {change.timezone}",
            *(f"warning: {w}" for w in warnings)])
        lines += [
            "BEGIN:VEVENT",
            f"UID:change-{change.id}@changes.regie",
            f"DTSTAMP:{stamp}",
            f"LAST-MODIFIED:{_time(change.updated_at)}",
            f"DTSTART:{_time(change.planned_start)}",
            f"DTEND:{_time(change.planned_end)}",
            f"SUMMARY:{ical_text(f'#{change.id} {change.summary} ({change.status.value})')}",
            f"DESCRIPTION:{ical_text(description)}",
            f"CATEGORIES:{ical_text(change.type.value)}",
            # Approved and running changes hold their window; the others only show it.
            "STATUS:" + ("CONFIRMED" if change.status.value in ("approved", "in_progress",
                                                              "completed", "reviewed")
                         else "TENTATIVE"),
            "END:VEVENT",
        ]
    for freeze in freezes:
        key = "\x1f".join((freeze.start.isoformat(), freeze.end.isoformat(), freeze.reason))
        lines += [
            "BEGIN:VEVENT",
            f"UID:{hashlib.sha256(key.encode()).hexdigest()[:32]}@freeze.regie",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_time(freeze.start)}",
            f"DTEND:{_time(freeze.end)}",
            f"SUMMARY:{ical_text(f'Change freeze: {freeze.reason}')}",
            "CATEGORIES:freeze",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(f"{ical_fold(line)}\r\n" for line in lines)
