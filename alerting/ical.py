"""iCalendar (RFC 5545) export of on-call shifts: one event per `Shift`, stable UIDs.

Pure: takes the shifts (from `Schedules.shifts`) and `now` for DTSTAMP, returns the text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from alerting.schedule import Shift, _aware


def to_ical(shifts: Iterable[Shift], now: datetime) -> str:
    """An RFC 5545 calendar with one event per shift; `now` is every event's DTSTAMP."""
    stamp = _aware(now, "now").strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Regie//On-call schedules//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    for shift in shifts:
        summary = f"{shift.role} on-call: {shift.person} ({shift.team})"
        description = (f"team: {shift.team}\nrole: {shift.role}\nperson: {shift.person}\n"
                       f"reason: {shift.reason}")
        lines += [
            "BEGIN:VEVENT",
            f"UID:{shift_uid(shift)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_ical_time(shift.start)}",
            f"DTEND:{_ical_time(shift.end)}",
            f"SUMMARY:{ical_text(summary)}",
            f"DESCRIPTION:{ical_text(description)}",
            "TRANSP:TRANSPARENT",  # being on call does not make anyone busy
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(f"{ical_fold(line)}\r\n" for line in lines)


def shift_uid(shift: Shift) -> str:
    """The same shift gets the same UID on every export, so calendars update, not duplicate."""
    key = "\x1f".join((shift.team, shift.role, shift.person, shift.start.isoformat(),
                       shift.end.isoformat()))
    return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@oncall.regie"


def ical_text(value: str) -> str:
    """A TEXT value escaped per RFC 5545 3.3.11: backslash, ';', ',' and newlines."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def ical_fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    data = line.encode()
    parts, offset, limit = [], 0, 75
    while offset < len(data):
        cut = min(offset + limit, len(data))
        while cut < len(data) and data[cut] & 0xC0 == 0x80:  # a continuation byte
            cut -= 1
        parts.append(data[offset:cut].decode())
        offset, limit = cut, 74  # continuation lines start with one space
    return "\r\n ".join(parts)


def _ical_time(value: datetime) -> str:
    return _aware(value, "a shift's start and end").strftime("%Y%m%dT%H%M%SZ")
