"""The registry over HTTP: end of support per host and product, hardware past EOSL, contracts
due. Reports are computed from the store with registry/lifecycle.py; `within` is a horizon
such as 90d, 6w, 8m or 1y."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from collector.app import INTAKE, REGISTRY
from collector.payloads.fields import BadPayload, string
from registry.lifecycle import (
    Item,
    contract_items,
    eos_items,
    first_date,
    grouped,
    hardware_items,
    horizon_end,
    software_items,
)


def _query(request: web.Request, allowed: set[str], default_within: str):
    unknown = set(request.query) - allowed
    if unknown:
        raise BadPayload(f"{sorted(unknown)[0]}: unknown query parameter")
    within = request.query.get("within", default_within)
    today = request.app[INTAKE].now().date()
    try:
        until = horizon_end(today, within)
    except ValueError as exc:
        raise BadPayload(f"within: {exc}") from None
    return today, until, within


def item_json(item: Item) -> dict[str, Any]:
    return {"host": item.host, "what": item.what, "version": item.version,
            "support": item.kind.value, "date": item.applies.isoformat() if item.applies
            else None, "status": item.status.value, "days_remaining": item.days_remaining,
            "detail": item.detail}


async def eos(request: web.Request) -> web.Response:
    today, until, within = _query(request, {"within", "host", "product", "by"}, "8m")
    host = string(request.query.get("host"), "host", max_length=255, required=False)
    product = string(request.query.get("product"), "product", max_length=255, required=False)
    by = request.query.get("by", "item")
    if by not in ("item", "host", "product"):
        raise BadPayload("by: one of item, host, product")
    registry = request.app[REGISTRY]
    software = await registry.store.software(host=host, product=product)
    if host is None and product is None:
        items = eos_items(software, await registry.store.hardware(), today, until)
    else:
        items = software_items(software, today, until)
    body: dict[str, Any] = {"today": today.isoformat(), "until": until.isoformat(),
                            "within": within, "data": registry.origin,
                            "systems": len({i.host for i in items}),
                            "items": [item_json(i) for i in items]}
    if by != "item":
        body["groups"] = [
            {by: key, "first_date": first.isoformat() if (first := first_date(members)) else None,
             "items": [item_json(i) for i in members]}
            for key, members in grouped(items, by).items()]
        del body["items"]
    return web.json_response(body)


async def contracts(request: web.Request) -> web.Response:
    today, until, within = _query(request, {"within", "include_renewed"}, "90d")
    renewed = request.query.get("include_renewed", "false")
    if renewed not in ("true", "false"):
        raise BadPayload("include_renewed: must be true or false")
    items = contract_items(await request.app[REGISTRY].store.contracts(), today, until,
                           include_renewed=renewed == "true")
    return web.json_response({"today": today.isoformat(), "until": until.isoformat(),
                              "within": within, "items": [item_json(i) for i in items]})


async def hardware(request: web.Request) -> web.Response:
    today, until, within = _query(request, {"within"}, "12m")
    items = hardware_items(await request.app[REGISTRY].store.hardware(), today, until)
    return web.json_response({"today": today.isoformat(), "until": until.isoformat(),
                              "within": within, "items": [item_json(i) for i in items]})
