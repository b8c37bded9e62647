"""The console's maintenance windows: what holds alerts now (stored windows and approved
changes' windows) and the windows with their next occurrence, read-only, from the same
functions and answer as GET /api/v1/maintenance (collector/handlers/maintenance.py)."""

from __future__ import annotations

from aiohttp import web

from collector.app import INTAKE, MAINTENANCE
from collector.handlers.maintenance import occurrence_json, window_json
from collector.ui.render import message, page

VIEWS = ("current", "all")


async def windows(request: web.Request) -> web.Response:
    unknown = set(request.query) - {"show"}
    view = request.query.get("show", "current")
    if unknown or view not in VIEWS:
        reason = (f"{sorted(unknown)[0]}: unknown query parameter" if unknown
                  else f"show: one of {', '.join(VIEWS)}")
        return message(request, 400, "Not a maintenance list", reason)
    maintenance = request.app[MAINTENANCE]
    now = request.app[INTAKE].now()
    stored = await maintenance.store.list(include_ended=view == "all")
    return page(request, "maintenance.html", view=view, views=VIEWS,
                windows=[window_json(w, now) for w in stored],
                active=[occurrence_json(o) for o in maintenance.active(now)])
