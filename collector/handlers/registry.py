"""The registry over HTTP: end of support per host and product, hardware past EOSL, contracts
due. Reports are computed from the store with registry/lifecycle.py; `within` is a horizon
such as 90d, 6w, 8m or 1y and only chooses which items are listed: an item's status is its
own on the day, with `[registry] near_horizon` as the near threshold."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from collector.app import INTAKE, REGISTRY, SETTINGS
from collector.payloads.fields import BadPayload
from collector.query import Choice, Flag, Horizon, Query, Text
from registry.lifecycle import (
    Item,
    Support,
    contract_items,
    eos_items,
    first_date,
    grouped,
    hardware_items,
    horizon_end,
    near_end,
    software_items,
)

# Each report's query; collector/openapi.py documents them from these same declarations.
EOS_QUERY = Query(
    Horizon(name="within", default="8m"), Text(name="host"), Text(name="product"),
    Choice(name="by", choices=("item", "host", "product"), default="item"))
CONTRACTS_QUERY = Query(Horizon(name="within", default="90d"),
                        Flag(name="include_renewed"))
HARDWARE_QUERY = Query(Horizon(name="within", default="12m"))


def _query(request: web.Request, query: Query):
    given = query.parse(request.query)
    today = request.app[INTAKE].now().date()
    try:
        until = horizon_end(today, given["within"])
    except ValueError as exc:  # past year 9999: only a clock set centuries ahead gets here
        raise BadPayload(f"within: {exc}") from None
    given["near"] = near_end(today, request.app[SETTINGS].registry.near_horizon)
    return today, until, given


def item_json(item: Item) -> dict[str, Any]:
    """One report item; software also says which support rule gave its date and, under a
    distribution's rule, the upstream date beside it; hardware and contracts add their own
    fields (the columns of their text reports)."""
    body = {"host": item.host, "what": item.what, "version": item.version,
            "support": item.kind.value, "date": _day(item.applies),
            "status": item.status.value, "days_remaining": item.days_remaining,
            "detail": item.detail}
    if item.kind in (Support.SECURITY, Support.EXTENDED):
        body |= {"rule": item.rule, "covered_by": item.covered_by,
                 "upstream_date": _day(item.upstream)}
    return body | dict(item.fields)  # hardware: vendor, model...; contracts: contract, covers...


def _day(day) -> str | None:
    return day.isoformat() if day else None


async def eos(request: web.Request) -> web.Response:
    today, until, given = _query(request, EOS_QUERY)
    within, host, product, by = given["within"], given["host"], given["product"], given["by"]
    near = given["near"]
    registry = request.app[REGISTRY]
    software = await registry.store.software(host=host, product=product)
    if host is None and product is None:
        items = eos_items(software, await registry.store.hardware(), today, until, near=near)
    else:
        items = software_items(software, today, until, near=near)
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
    today, until, given = _query(request, CONTRACTS_QUERY)
    within = given["within"]
    items = contract_items(await request.app[REGISTRY].store.contracts(), today, until,
                           near=given["near"], include_renewed=given["include_renewed"])
    return web.json_response({"today": today.isoformat(), "until": until.isoformat(),
                              "within": within, "items": [item_json(i) for i in items]})


async def hardware(request: web.Request) -> web.Response:
    today, until, given = _query(request, HARDWARE_QUERY)
    within = given["within"]
    items = hardware_items(await request.app[REGISTRY].store.hardware(), today, until,
                           near=given["near"])
    return web.json_response({"today": today.isoformat(), "until": until.isoformat(),
                              "within": within, "items": [item_json(i) for i in items]})
