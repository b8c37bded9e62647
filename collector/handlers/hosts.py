"""Hosts over HTTP: `GET /api/v1/hosts` (a page of hosts, by name) and
`GET /api/v1/hosts/{name}` (one host: its latest inventory facts, end-of-support standing,
open tickets, listed as GET /api/v1/tickets lists them: without details unless
details=true). Read role. The answers come from the same store functions the registry and
ticket endpoints use."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from alerting.ticket import Status
from collector.app import INTAKE, REGISTRY, SETTINGS, STORES, error_response
from collector.handlers.tickets import ticket_json, without_details
from collector.query import Flag, Integer, Path, PathText, Query, Text
from collector.store.hosts import HostSummary, host_summaries
from collector.store.tickets import TicketFilter
from registry.lifecycle import Software, near_end, software_status
from registry.lifecycle import Status as Support

MAX_LIMIT = 1000
# The whole host answers with the worst of its software: the first of these that any has.
WORST_FIRST = (Support.PAST, Support.NEAR, Support.EXTENDED, Support.SUPPORTED,
               Support.UNKNOWN)

LIST_QUERY = Query(
    Integer(name="limit", minimum=1, maximum=MAX_LIMIT, default=100),
    Text(name="after", description="only hosts named after this one (the previous page's "
                                   "next_after)"),
)
ONE_QUERY = Query(
    Flag(name="details", description="include each open ticket's details (labels, "
                                     "annotations, custom details); left out by default, as "
                                     "in the ticket list"),
)
# Host names are stored up to 255 characters (collector/payloads/): no longer one has a row.
HOST_PATH = Path(PathText(name="name", max_length=255))


def _eos(rows: list[Software], today: date, near: date) -> dict[str, Any]:
    items = []
    for row in rows:
        applies, kind, status = software_status(row, today, near)
        items.append({"product": row.product, "cycle": row.cycle, "category": row.category,
                      "support": kind.value, "date": applies.isoformat() if applies else None,
                      "status": status.value,
                      "days_remaining": (applies - today).days if applies else None})
    present = {item["status"] for item in items}
    worst = next((s.value for s in WORST_FIRST if s.value in present), None)
    os_items = [i for i in items if i["category"] == "os"]
    return {"status": worst, "os": os_items[0] if os_items else None, "software": items}


async def _summary_json(request: web.Request, host: HostSummary, *,
                        detail: bool) -> dict[str, Any]:
    today = request.app[INTAKE].now().date()
    near = near_end(today, request.app[SETTINGS].registry.near_horizon)
    eos = _eos(await request.app[REGISTRY].store.software(host=host.name), today, near)
    body: dict[str, Any] = {
        "name": host.name,
        "last_push_at": host.last_push_at.isoformat() if host.last_push_at else None,
        "pushes": host.pushes,
        "os": host.os.get("PRETTY_NAME") or host.os.get("NAME"),
        "end_of_support": eos["status"],
        "open_tickets": host.open_tickets,
    }
    if detail:
        body["os_release"] = dict(host.os)
        body["end_of_support_items"] = eos["software"]
    return body


async def list_hosts(request: web.Request) -> web.Response:
    given = LIST_QUERY.parse(request.query)
    hosts = await host_summaries(request.app[STORES].engine, limit=given["limit"],
                                 after=given["after"])
    body: dict[str, Any] = {"hosts": [await _summary_json(request, h, detail=False)
                                      for h in hosts]}
    if len(hosts) == given["limit"]:
        body["next_after"] = hosts[-1].name
    return web.json_response(body)


async def show_host(request: web.Request) -> web.Response:
    given = ONE_QUERY.parse(request.query)
    name = HOST_PATH.parse(request)["name"]
    found = await host_summaries(request.app[STORES].engine, name=name, limit=1)
    if not found:
        return error_response(404, "no such host: it never pushed an inventory and has no "
                                   "open ticket")
    body = await _summary_json(request, found[0], detail=True)
    tickets = await request.app[INTAKE].tickets.list(TicketFilter(
        host=name, status=(Status.OPEN, Status.ACKNOWLEDGED), limit=100,
        with_details=given["details"]))
    body["tickets"] = [ticket_json(t) if given["details"] else without_details(ticket_json(t))
                       for t in tickets]
    return web.json_response(body)
