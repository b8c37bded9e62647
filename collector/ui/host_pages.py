"""The console's hosts: the list (last inventory push, OS, end-of-support standing, open
tickets) and one host (its inventory, packages searchable, its tickets), from the same store
functions and the same summary as GET /api/v1/hosts (collector/handlers/hosts.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from alerting.ticket import Status
from collector.app import INTAKE, STORES
from collector.handlers.hosts import _summary_json
from collector.store.hosts import host_summaries
from collector.store.inventory import InventoryStore
from collector.store.tickets import TicketFilter
from collector.ui.render import ago, message, page

PAGE_SIZE = 100
MAX_PACKAGES = 500    # packages listed at once; the search narrows the rest


async def host_facts(request: web.Request, name: str) -> dict[str, Any] | None:
    """The host's summary with its end-of-support items, as the API's host answer has it."""
    found = await host_summaries(request.app[STORES].engine, name=name, limit=1)
    if not found:
        return None
    return await _summary_json(request, found[0], detail=True)


async def hosts(request: web.Request) -> web.Response:
    after = request.query.get("after") or None
    unknown = set(request.query) - {"after"}
    if unknown or (after is not None and (len(after) > 255 or "\x00" in after)):
        reason = (f"{sorted(unknown)[0]}: unknown query parameter" if unknown
                  else "after: longer than 255 characters or with a NUL character")
        return message(request, 400, "Not a host list", reason)
    found = await host_summaries(request.app[STORES].engine, limit=PAGE_SIZE, after=after)
    rows = [await _summary_json(request, host, detail=False) for host in found]
    next_link = ("/ui/hosts?" + urlencode({"after": found[-1].name})
                 if len(found) == PAGE_SIZE else None)
    return page(request, "hosts.html", hosts=rows, next_link=next_link)


async def host(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    search = request.query.get("q", "")
    unknown = set(request.query) - {"q"}
    if unknown or len(name) > 255 or len(search) > 200 or "\x00" in name + search:
        return message(request, 400, "Not a host page",
                       f"{sorted(unknown)[0]}: unknown query parameter" if unknown
                       else "host name or search too long, or with a NUL character")
    facts = await host_facts(request, name)
    if facts is None:
        return message(request, 404, "No such host",
                       "no such host: it never pushed an inventory and has no open ticket")
    document = await InventoryStore(request.app[STORES].engine).latest(name) or {}
    packages = [p for p in document.get("packages") or () if isinstance(p, dict)]
    wanted = search.strip().lower()
    matching = [p for p in packages if not wanted or wanted in str(p.get("name", "")).lower()]
    tickets = await request.app[INTAKE].tickets.list(TicketFilter(
        host=name, status=(Status.OPEN, Status.ACKNOWLEDGED), limit=100, with_details=False))
    return page(request, "host.html", host=facts, packages=matching[:MAX_PACKAGES],
                package_count=len(packages), matching=len(matching), search=search,
                tickets=tickets, now=request.app[INTAKE].now(), ago=ago,
                hardware=document.get("hardware") if isinstance(document.get("hardware"),
                                                                dict) else None)
