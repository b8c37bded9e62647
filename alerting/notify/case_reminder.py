"""A vendor case's follow-up reminder, rendered as every channel renders a ticket's notice.

It has the same rendering surface as `Notification` (alerting/notify/message.py): `to_json()`
for webhooks and the file channel, `subject()`, `headline()`, `facts()`, `links()`, `text()`
and `summary` for e-mail and chat. Its JSON (version 1, documented in docs/vendor-cases.md)::

    {"version": 1, "kind": "vendor_case_reminder", "case_id": 7, "vendor": "Dell",
     "case_number": "SR-1001", "summary": "RAID controller resets", "severity": "high",
     "status": "waiting_on_vendor", "recipient": "alice", "follow_up_days": 3,
     "overdue_seconds": 3600, "last_vendor_update_at": null,
     "occurred_at": "2026-12-02T03:00:00Z", "links": {"case": null}}
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from alerting.notify.message import SCHEMA_VERSION, iso_utc, one_line

KIND = "vendor_case_reminder"


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseReminder:
    case_id: int
    vendor: str
    case_number: str
    summary: str
    severity: str
    status: str
    recipient: str | None
    follow_up_days: int
    overdue_seconds: float
    occurred_at: dt.datetime
    last_vendor_update_at: dt.datetime | None = None
    case_url: str | None = field(default=None, repr=False)
    kind: str = KIND

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")

    @classmethod
    def from_payload(cls, payload: dict[str, Any], *, recipient: str | None,
                     case_url: str | None = None) -> CaseReminder:
        last = payload.get("last_vendor_update_at")
        return cls(case_id=int(payload["case_id"]), vendor=payload["vendor"],
                   case_number=payload["case_number"], summary=payload["summary"],
                   severity=payload["severity"], status=payload["status"],
                   recipient=recipient, follow_up_days=int(payload["follow_up_days"]),
                   overdue_seconds=float(payload["overdue_seconds"]),
                   occurred_at=dt.datetime.fromisoformat(payload["occurred_at"]),
                   last_vendor_update_at=dt.datetime.fromisoformat(last) if last else None,
                   case_url=case_url)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SCHEMA_VERSION, "kind": self.kind, "case_id": self.case_id,
            "vendor": self.vendor, "case_number": self.case_number, "summary": self.summary,
            "severity": self.severity, "status": self.status, "recipient": self.recipient,
            "follow_up_days": self.follow_up_days,
            "overdue_seconds": round(self.overdue_seconds),
            "last_vendor_update_at": (iso_utc(self.last_vendor_update_at)
                                      if self.last_vendor_update_at else None),
            "occurred_at": iso_utc(self.occurred_at),
            "links": {"case": self.case_url},
        }

    def subject(self) -> str:
        return (f"[{self.severity}] Follow up {one_line(self.vendor)} case "
                f"{one_line(self.case_number)}: {one_line(self.summary)}")

    def headline(self) -> str:
        return f"Vendor case #{self.case_id} needs a follow-up"

    def facts(self) -> list[tuple[str, str]]:
        last = (iso_utc(self.last_vendor_update_at) if self.last_vendor_update_at
                else "never")
        rows = [
            ("Vendor", self.vendor),
            ("Case number", self.case_number),
            ("Severity", self.severity),
            ("Status", self.status.replace("_", " ")),
            ("No update for", f"{self.follow_up_days} day(s)"),
            ("Last vendor update", last),
            ("For", self.recipient),
            ("When", iso_utc(self.occurred_at)),
        ]
        return [(label, one_line(value)) for label, value in rows if value]

    def links(self) -> list[tuple[str, str]]:
        return [("Open case", self.case_url)] if self.case_url else []

    def text(self) -> str:
        lines = [f"{self.headline()}: {one_line(self.summary)}", ""]
        lines += [f"{label}: {value}" for label, value in self.facts()]
        lines += ["", "Update the case (regie vendor-case update / note) once you have "
                      "chased the vendor."]
        for label, url in self.links():
            lines.append(f"{label}: {url}")
        return "\n".join(lines) + "\n"
