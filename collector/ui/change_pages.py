"""The console's changes: the list (those still open, or every one) and one change with its
risk reasons, warnings and timeline, read-only, from the same store and desk functions and
the same answer as GET /api/v1/changes (collector/handlers/changes.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from alerting.changes import ChangeStatus
from collector.handlers.changes import change_json, desk
from collector.query import MAX_ID
from collector.store import changes as store
from collector.store.changes import ChangeFilter
from collector.ui.render import message, page

PAGE_SIZE = 200
DONE = (ChangeStatus.REJECTED, ChangeStatus.REVIEWED)
VIEWS = {"open": tuple(s for s in ChangeStatus if s not in DONE), "all": ()}


def _local(moment: str | None, zone: str) -> str:
    if not moment:
        return "-"
    return datetime.fromisoformat(moment).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


async def changes(request: web.Request) -> web.Response:
    unknown = set(request.query) - {"show"}
    view = request.query.get("show", "open")
    if unknown or view not in VIEWS:
        reason = (f"{sorted(unknown)[0]}: unknown query parameter" if unknown
                  else f"show: one of {', '.join(VIEWS)}")
        return message(request, 400, "Not a change list", reason)
    changes_desk = desk(request)
    found = await store.list_changes(changes_desk.engine,
                                     ChangeFilter(status=VIEWS[view], limit=PAGE_SIZE))
    warnings = await changes_desk.conflicts_of(found)
    rows = [change_json(c, warnings[c.id]) for c in found]
    windows = {c["id"]: (_local(c["planned_start"], c["timezone"]),
                         _local(c["planned_end"], c["timezone"])) for c in rows}
    return page(request, "changes.html", changes=rows, view=view, views=tuple(VIEWS),
                windows=windows)


async def change(request: web.Request) -> web.Response:
    text = request.match_info["id"]
    # At most 19 digits before int(): over 4,300 it raises (a 500), and no id is longer.
    if not (text.isascii() and text.isdecimal() and len(text) <= 19
            and 1 <= int(text) <= MAX_ID):
        return message(request, 404, "No such change", "no change has that number")
    changes_desk = desk(request)
    found = await store.get_change(changes_desk.engine, int(text))
    if found is None:
        return message(request, 404, "No such change", "no change has that number")
    body = change_json(found, (await changes_desk.conflicts_of([found]))[found.id])
    zone = body["timezone"]
    return page(request, "change.html", change=body,
                timeline=await store.timeline(changes_desk.engine, found.id),
                window=(_local(body["planned_start"], zone), _local(body["planned_end"], zone)),
                actual=(_local(body["actual_start"], zone), _local(body["actual_end"], zone)))
