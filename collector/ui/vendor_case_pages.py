"""The console's vendor cases: the list (those still waiting on someone, or every one) and one
case with its timeline, read-only, from the same store functions and the same answer as
GET /api/v1/vendor-cases (collector/handlers/vendor_cases.py): the contract's standing and the
warnings are the API's."""

from __future__ import annotations

from aiohttp import web

from collector.app import INTAKE, REGISTRY, STORES
from collector.handlers.vendor_cases import case_json
from collector.query import MAX_ID
from collector.store.vendor_cases import CaseFilter, VendorCaseStore
from collector.ui.render import ago, message, page
from registry.vendor_cases import ACTIVE, CaseStatus

PAGE_SIZE = 200
VIEWS = {"waiting": tuple(s.value for s in CaseStatus if s in ACTIVE),
         "all": tuple(s.value for s in CaseStatus)}


async def cases(request: web.Request) -> web.Response:
    unknown = set(request.query) - {"show"}
    view = request.query.get("show", "waiting")
    if unknown or view not in VIEWS:
        reason = (f"{sorted(unknown)[0]}: unknown query parameter" if unknown
                  else f"show: one of {', '.join(VIEWS)}")
        return message(request, 400, "Not a vendor case list", reason)
    found = await VendorCaseStore(request.app[STORES].engine).list(
        CaseFilter(status=VIEWS[view], limit=PAGE_SIZE))
    now = request.app[INTAKE].now()
    contracts = (await request.app[REGISTRY].store.contracts()
                 if any(c.contract for c in found) else [])
    rows = [await case_json(request, case, contracts) for case in found]
    overdue = {c.id for c in found
               if c.next_follow_up_at is not None and c.next_follow_up_at <= now}
    return page(request, "vendor_cases.html", cases=rows, view=view, views=tuple(VIEWS),
                overdue=overdue, opened={c.id: ago(c.opened_at, now) for c in found})


async def case(request: web.Request) -> web.Response:
    text = request.match_info["id"]
    # At most 19 digits before int(): over 4,300 it raises (a 500), and no id is longer.
    if not (text.isascii() and text.isdecimal() and len(text) <= 19
            and 1 <= int(text) <= MAX_ID):
        return message(request, 404, "No such vendor case", "no vendor case has that number")
    store = VendorCaseStore(request.app[STORES].engine)
    found = await store.get(int(text))
    if found is None:
        return message(request, 404, "No such vendor case", "no vendor case has that number")
    now = request.app[INTAKE].now()
    return page(request, "vendor_case.html", case=await case_json(request, found),
                timeline=await store.timeline(found.id),
                overdue=found.next_follow_up_at is not None and found.next_follow_up_at <= now)
