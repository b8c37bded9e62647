"""A person's problem report (POST /api/v1/tickets) -> UserReport."""

from __future__ import annotations

from typing import Any

from alerting.ticket import Criticality, Urgency, UserReport
from collector.payloads.fields import choice, mapping, no_unknown, string
from collector.payloads.people import person

FIELDS = {"summary", "description", "reporter", "host", "service", "component", "impact",
          "urgency"}


def parse_report(body: Any, *, default_reporter: str) -> UserReport:
    report = mapping(body, "body")
    no_unknown(report, FIELDS, "")
    return UserReport(
        summary=string(report.get("summary"), "summary", max_length=500),
        description=string(report.get("description"), "description", max_length=20_000,
                           required=False, allow_empty=True) or "",
        reporter=person(report.get("reporter"), "reporter", required=False)
        or default_reporter,
        host=string(report.get("host"), "host", max_length=255, required=False),
        service=string(report.get("service"), "service", max_length=255, required=False),
        component=string(report.get("component"), "component", max_length=255, required=False),
        impact=choice(report.get("impact"), Criticality, "impact", default=Criticality.MEDIUM),
        urgency=choice(report.get("urgency"), Urgency, "urgency", default=Urgency.MEDIUM),
    )
