"""Patching over HTTP (docs/patching.md): pending updates per host and the patch-lag report,
from the same functions as `regie patch` (collector/patching.py)."""

from __future__ import annotations

from aiohttp import web

from collector.app import INTAKE, STORES
from collector.patching import report, status, status_json
from collector.payloads.fields import BadPayload
from collector.query import Choice, Flag, Horizon, Query, Text
from registry.patch_lag import BY, horizon_start, report_json

# Each endpoint's query; collector/openapi.py documents them from these same declarations.
STATUS_QUERY = Query(
    Text(name="host", description="only hosts matching this glob, e.g. web-* or db-0[12]"),
    Flag(name="security", description="only hosts with pending security updates, and only "
                                      "those updates"),
    Flag(name="updates", description="list each host's pending updates (package, candidate "
                                     "version, first seen)"))
LAG_QUERY = Query(
    Horizon(name="since", default="90d",
            description="how far back: changes planned and updates installed within it, "
                        "e.g. 90d, 6w, 3m, 1y"),
    Choice(name="by", choices=BY, default="month",
           description="group the figures by month, host or change"),
    Text(name="host", description="only hosts matching this glob"))


async def patch_status(request: web.Request) -> web.Response:
    given = STATUS_QUERY.parse(request.query)
    hosts = await status(request.app[STORES].engine, host=given["host"],
                         security=given["security"], with_updates=given["updates"])
    return web.json_response(status_json(hosts, request.app[INTAKE].now(),
                                         with_updates=given["updates"]))


async def patch_lag(request: web.Request) -> web.Response:
    given = LAG_QUERY.parse(request.query)
    now = request.app[INTAKE].now()
    try:
        since = horizon_start(now, given["since"])
    except ValueError as exc:
        raise BadPayload(f"since: {exc}") from None
    found = await report(request.app[STORES].engine, since=since, now=now, by=given["by"],
                         host=given["host"])
    return web.json_response(report_json(found))
