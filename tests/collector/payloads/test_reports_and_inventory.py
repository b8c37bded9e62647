"""User reports and inventory pushes: accepted shapes and refused ones."""

from __future__ import annotations

import pytest

from alerting.ticket import Criticality, Urgency
from collector.payloads.fields import BadPayload
from collector.payloads.inventory import parse_inventory
from collector.payloads.reports import parse_report


def test_report_defaults():
    report = parse_report({"summary": "Printer on 3rd floor jams"}, default_reporter="helpdesk")
    assert report.reporter == "helpdesk"
    assert (report.impact, report.urgency) == (Criticality.MEDIUM, Urgency.MEDIUM)


def test_report_full():
    report = parse_report({"summary": "Payroll export fails", "description": "since 09:00",
                           "reporter": "anna", "host": "pay-01", "service": "payroll",
                           "component": "export", "impact": "business-critical",
                           "urgency": "high"}, default_reporter="x")
    assert (report.reporter, report.impact, report.urgency) == (
        "anna", Criticality.BUSINESS_CRITICAL, Urgency.HIGH)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "summary: is required"),
        ({"summary": "  "}, "summary: must not be empty"),
        ({"summary": "x", "impact": "huge"}, "impact: must be one of"),
        ({"summary": "x", "urgency": 3}, "urgency: must be one of"),
        ({"summary": "x", "priority": "P1"}, "priority: unknown field"),
        ({"summary": "x" * 501}, "summary: longer than 500"),
        ({"summary": "a\x00b"}, "summary: must not contain NUL"),
        ("text", "body: must be an object"),
    ],
)
def test_report_refused(body, reason):
    with pytest.raises(BadPayload, match=reason):
        parse_report(body, default_reporter="x")


DOC = {"schema": "regie.inventory/v1", "host": {"hostname": "web-01"},
       "observations": [{"source": "dpkg", "raw": {"package": "nginx", "version": "1.22.1-9"}}]}


def test_inventory_ok():
    push = parse_inventory({"idempotency_key": "k1", "document": DOC}, header_key="k1")
    assert (push.host, push.idempotency_key) == ("web-01", "k1")


@pytest.mark.parametrize(
    ("body", "header", "reason"),
    [
        ({"idempotency_key": "k1", "document": DOC}, "k2", "Idempotency-Key header and"),
        ({"document": DOC}, None, "idempotency_key: is required"),
        ({"idempotency_key": "k", "document": {**DOC, "schema": "v0"}}, None,
         "document.schema: must be"),
        ({"idempotency_key": "k", "document": {**DOC, "host": {}}}, None,
         "document.host.hostname: is required"),
        ({"idempotency_key": "k", "document": {**DOC, "observations": [{"source": "x"}]}},
         None, r"document.observations\[0\].raw: must be an object"),
    ],
)
def test_inventory_refused(body, header, reason):
    with pytest.raises(BadPayload, match=reason):
        parse_inventory(body, header_key=header)
