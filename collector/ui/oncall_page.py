"""The console's on-call page: who holds each role now per team, the next hand-offs, the
overrides in force or coming, and the gaps of the next four weeks -- from the same schedules
(alerting/schedule.py) that `regie oncall` and GET /api/v1/oncall read."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from alerting.schedule import ROLES
from collector.app import INTAKE, ONCALL
from collector.ui.render import message, page

AHEAD = timedelta(weeks=4)
HANDOFFS = 8    # next hand-offs listed per team


async def oncall(request: web.Request) -> web.Response:
    found = request.app.get(ONCALL)
    if request.query:
        return message(request, 400, "Not an on-call page",
                       f"{sorted(request.query)[0]}: unknown query parameter")
    if found is None:
        return page(request, "oncall.html", configured=False, teams=[], gaps=[], now=None)
    schedules = found.schedules
    now = request.app[INTAKE].now()
    teams = []
    for team in schedules.teams:
        current = {role: [s for s in schedules.who(now, role, team.name)] for role in ROLES}
        upcoming = [s for s in schedules.shifts(now, now + AHEAD, team=team.name)
                    if s.start > now][:HANDOFFS]
        overrides = [o for o in team.overrides if o.end > now]
        teams.append({"name": team.name, "timezone": str(team.timezone), "now": current,
                      "next": upcoming, "overrides": overrides})
    gaps = schedules.gaps(now, now + AHEAD)
    return page(request, "oncall.html", configured=True, teams=teams, gaps=gaps, now=now,
                roles=ROLES, until=now + AHEAD)
