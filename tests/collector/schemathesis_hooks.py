"""Schemathesis hooks for tests/collector/test_openapi.py (loaded through SCHEMATHESIS_HOOKS).

One rule of the API cannot be written in OpenAPI: an inventory push's `Idempotency-Key`
header, when sent, must equal the body's `idempotency_key` (collector/payloads/inventory.py;
the document says so in words). For requests generated as valid, the header is made equal, so
that they are valid by that rule too; requests generated as invalid are sent as generated.
"""

from __future__ import annotations

import re

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    if case.operation.path != "/api/v1/inventory" or not isinstance(case.body, dict):
        return
    meta = case.meta
    if meta is not None and not meta.generation.mode.is_positive:
        return
    key = case.body.get("idempotency_key")
    if not case.headers or "Idempotency-Key" not in case.headers:
        return
    # Schemathesis revalidates an edited case. A key a header cannot carry (not visible
    # ASCII) is sent in the body alone, as the header is optional.
    if isinstance(key, str) and re.fullmatch(r"[!-~]([ -~]*[!-~])?", key):
        case.headers["Idempotency-Key"] = key
    else:
        del case.headers["Idempotency-Key"]


# A new change (POST /api/v1/changes) has rules OpenAPI cannot state either: its window ends
# after it starts and lasts at most 31 days, its hosts are hosts the collector knows, its
# tickets exist (collector/payloads/changes.py; the document says so in words). Requests
# generated as valid are made valid by those rules too: no hosts, no tickets, a one-hour window.
@schemathesis.hook("before_call")
def change_rules(context, case, kwargs) -> None:
    if case.operation.path != "/api/v1/changes" or case.operation.method.upper() != "POST" \
            or not isinstance(case.body, dict):
        return
    meta = case.meta
    if meta is not None and not meta.generation.mode.is_positive:
        return
    from datetime import timedelta

    from collector.payloads.fields import BadPayload
    from collector.query import Time

    body = case.body
    if body.get("hosts"):
        body["hosts"] = []
    if body.get("tickets"):
        body["tickets"] = []
    try:
        start = Time(name="planned_start").parse(body.get("planned_start"))
    except (BadPayload, TypeError):
        return   # not a time the parser reads: left to the document's own checks
    end = start + timedelta(hours=1)
    if end.year > 8999:
        start, end = start - timedelta(hours=1), start
        body["planned_start"] = start.isoformat()
    body["planned_end"] = end.isoformat()


# A governance report's period has rules OpenAPI cannot state: a quarter or from/to (both),
# from not after to, not in the future (collector/handlers/reports.py; the document says so in
# words). Requests generated as valid are made valid by them: a past quarter, or a past month.
@schemathesis.hook("before_call")
def report_period_rules(context, case, kwargs) -> None:
    if case.operation.path != "/api/v1/reports/governance" or not case.query:
        return
    meta = case.meta
    if meta is not None and not meta.generation.mode.is_positive:
        return
    query = case.query
    if query.get("quarter"):
        query["quarter"] = f"2025Q{query['quarter'][-1]}"
        query.pop("from", None)
        query.pop("to", None)
    elif query.get("from") or query.get("to"):
        query["from"], query["to"] = "2025-02-01", "2025-02-28"


# A health report's month must not be in the future, its group must be pushed by some host and
# host and group go one without the other (collector/handlers/reports.py; the document says so
# in words): requests generated as valid ask for a past month and a host glob.
@schemathesis.hook("before_call")
def health_report_rules(context, case, kwargs) -> None:
    if case.operation.path != "/api/v1/reports/health" or not case.query:
        return
    meta = case.meta
    if meta is not None and not meta.generation.mode.is_positive:
        return
    query = case.query
    if query.get("period"):
        query["period"] = f"2025-{query['period'][-2:]}"
    if query.pop("group", None) is not None:
        query.setdefault("host", "*")
