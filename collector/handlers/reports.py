"""Reports over HTTP (docs/reports.md): the governance review's data as JSON, from the same
function as `regie report governance --format json` (collector/reports/governance.py), and
the monthly health report's, as `regie report health --format json`
(collector/reports/health.py; its capacity section is the CLI's without --prometheus: the
API asks no Prometheus)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from aiohttp import web

from collector.app import INTAKE, SETTINGS, STORES
from collector.payloads.fields import BadPayload
from collector.query import Query, Text
from collector.reports import health
from collector.reports.governance import build, report_json
from collector.reports.period import choose, quarter_period

QUARTER_PATTERN = r"^[0-9]{4}-?[Qq][1-4]$"
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DAY = re.compile(DAY_PATTERN.strip("^$"))
_QUARTER_TEXT = re.compile(QUARTER_PATTERN.strip("^$"))
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
GROUP_PATTERN = r"^[^=]+=[\s\S]+$"


@dataclass(frozen=True, slots=True, kw_only=True)
class Written:
    """A parameter of one written form (a quarter, a day), read by `read` (ValueError: the
    reason); collector/query.py's Param protocol."""

    name: str
    pattern: str
    read: Callable[[str], Any]
    description: str
    default = None
    repeatable = False

    def parse(self, text: str) -> Any:
        try:
            return self.read(text)
        except ValueError as exc:
            raise BadPayload(f"{self.name}: {exc}") from None

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": self.pattern}

    def describe(self) -> str:
        return self.description


def _day(text: str) -> date:
    try:
        # The documented form only: date.fromisoformat also reads 20261001 and 2026-W40-4.
        if not _DAY.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a date such as 2026-10-01") from None


def _quarter(text: str) -> str:
    if not _QUARTER_TEXT.fullmatch(text):   # quarter_period would strip blanks
        raise ValueError(f"{text[:40]!r} is not a quarter such as 2026Q4")
    return quarter_period(text).label


# collector/openapi.py documents the query from this same declaration.
GOVERNANCE_QUERY = Query(
    Written(name="quarter", pattern=QUARTER_PATTERN, read=_quarter,
            description="the calendar quarter, e.g. 2026Q4 (default: the last complete one); "
                        "not with from/to, not in the future"),
    Written(name="from", pattern=DAY_PATTERN, read=_day,
            description="first day of the period, e.g. 2026-10-01; with to, not after it"),
    Written(name="to", pattern=DAY_PATTERN, read=_day,
            description="last day of the period, e.g. 2026-12-31; with from"))


async def governance(request: web.Request) -> web.Response:
    given = GOVERNANCE_QUERY.parse(request.query)
    now = request.app[INTAKE].now()
    try:
        period = choose(quarter=given["quarter"], start=given["from"], end=given["to"],
                        today=now.date())
    except ValueError as exc:
        field = "quarter" if given["quarter"] is not None else "from"
        raise BadPayload(f"{field}: {exc}") from None
    found = await build(request.app[STORES].engine, period, now=now,
                        near_horizon=request.app[SETTINGS].registry.near_horizon)
    return web.json_response(report_json(found))


def _month(text: str) -> str:
    if not health.MONTH_TEXT.fullmatch(text):
        raise ValueError(f"{text[:40]!r} is not a month such as 2026-11")
    return text


# collector/openapi.py documents the query from this same declaration.
HEALTH_QUERY = Query(
    Written(name="period", pattern=MONTH_PATTERN, read=_month,
            description="the month, e.g. 2026-11 (default: the last complete one); not in "
                        "the future"),
    Text(name="host", description="the systems: host names matching this glob, e.g. web-* "
                                  "(default: all); not with group"),
    Written(name="group", pattern=GROUP_PATTERN, read=health.group,
            description="the systems: hosts whose agent's latest push carries this label "
                        "(LABEL=VALUE, e.g. role=web); not with host; refused when no host "
                        "pushes it"))


async def health_report(request: web.Request) -> web.Response:
    given = HEALTH_QUERY.parse(request.query)
    now = request.app[INTAKE].now()
    if given["host"] is not None and given["group"] is not None:
        raise BadPayload("group: not with host (one or the other)")
    try:
        period = health.month(given["period"], now.date())
    except ValueError as exc:
        raise BadPayload(f"period: {exc}") from None
    try:
        found = await health.build(
            request.app[STORES].engine, period, host=given["host"] or "*",
            group=given["group"], now=now,
            near_horizon=request.app[SETTINGS].registry.near_horizon)
    except health.NoSuchGroup as exc:
        raise BadPayload(f"group: {exc}") from None
    return web.json_response(found)
