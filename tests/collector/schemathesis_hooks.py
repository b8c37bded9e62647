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


# The stateful phase chains calls by the document's links and runs many scenarios, in which
# Hypothesis repeats a first step it drew before (tests/collector/test_openapi.py). Two
# creations are unique by a key: a vendor case by its vendor's case number (a second is 409)
# and an inventory push by its idempotency key (a replay is 200 "duplicate", not 202). Such a
# repeat would then answer otherwise than the first time, Hypothesis would see the scenario
# change under it and stop the phase early. So in that phase each valid creation gets a fresh
# key; the duplicates themselves are sent by the other phases.
_fresh = iter(range(1, 1 << 62))


@schemathesis.hook("before_call")
def fresh_keys_when_stateful(context, case, kwargs) -> None:
    meta = case.meta
    if meta is None or meta.phase.name != "stateful" or not meta.generation.mode.is_positive \
            or case.operation.method.upper() != "POST" or not isinstance(case.body, dict):
        return
    field = {"/api/v1/vendor-cases": "case_number",
             "/api/v1/inventory": "idempotency_key"}.get(case.operation.path)
    if field is None or not isinstance(case.body.get(field), str):
        return
    case.body[field] = f"{case.body[field][:180]} #{next(_fresh)}"
    if case.headers and "Idempotency-Key" in case.headers:
        del case.headers["Idempotency-Key"]


# A maintenance window has rules OpenAPI cannot state (docs/maintenance.md; the document says so
# in words: 409 naming the field): its start and end are times in its time zone, it is not
# wholly in the past, its recurrence occurs, its matchers are Alertmanager matchers, it has a
# scope. Random text almost never makes one, so in the stateful phase, which follows a window's
# links (read it, end it), valid requests get a window that can be: an hour, a fixed day in the
# future, on the generated hosts (or a glob) and services, no recurrence or matchers.
@schemathesis.hook("before_call")
def maintenance_window_when_stateful(context, case, kwargs) -> None:
    meta = case.meta
    if meta is None or meta.phase.name != "stateful" or not meta.generation.mode.is_positive \
            or case.operation.path != "/api/v1/maintenance" \
            or case.operation.method.upper() != "POST" or not isinstance(case.body, dict):
        return
    body = case.body
    body.update(start="2099-01-04T02:00", end=None, duration="1h", timezone=None, rrule=None,
                matchers=None)
    if not body.get("hosts") and not body.get("services"):
        body["hosts"] = ["db-*"]
