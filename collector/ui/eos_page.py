"""The console's end-of-support page: software and hardware past or reaching end of support
within the horizon (8 months unless asked), contracts due, grouped by product or by host, each
line linking its host -- computed by registry/lifecycle.py from the same store reads as
`regie registry eos` and GET /api/v1/registry/eos."""

from __future__ import annotations

from aiohttp import web

from collector.app import INTAKE, REGISTRY, SETTINGS
from collector.ui.render import message, page
from registry.lifecycle import contract_items, eos_items, grouped, horizon_end, near_end

HORIZONS = ("3m", "6m", "8m", "12m", "2y")
GROUPINGS = ("product", "host")


async def eos(request: web.Request) -> web.Response:
    unknown = set(request.query) - {"within", "by"}
    within = request.query.get("within", "8m")
    by = request.query.get("by", "product")
    if unknown:
        return message(request, 400, "Not an end-of-support view",
                       f"{sorted(unknown)[0]}: unknown query parameter")
    if within not in HORIZONS:
        return message(request, 400, "Not an end-of-support view",
                       f"within: one of {', '.join(HORIZONS)}")
    if by not in GROUPINGS:
        return message(request, 400, "Not an end-of-support view",
                       f"by: one of {', '.join(GROUPINGS)}")
    today = request.app[INTAKE].now().date()
    until = horizon_end(today, within)
    near = near_end(today, request.app[SETTINGS].registry.near_horizon)
    registry = request.app[REGISTRY]
    items = eos_items(await registry.store.software(), await registry.store.hardware(), today,
                      until, near=near)
    contracts = contract_items(await registry.store.contracts(), today, until, near=near)
    return page(request, "eos.html", groups=grouped(items, by), contracts=contracts,
                today=today, until=until, within=within, by=by, horizons=HORIZONS,
                groupings=GROUPINGS, systems=len({i.host for i in items}),
                past=sum(1 for i in items if i.status.value == "past"), items=items)
