"""The console's "something is broken" form: a person's report, read by the same parser as
POST /api/v1/tickets (collector/payloads/reports.py) and priced by the same priority function
(Intake.report), so a report from the console and one from the API get the same priority."""

from __future__ import annotations

from aiohttp import web

from alerting.ticket import Criticality, Urgency
from collector.app import INTAKE
from collector.payloads.fields import BadPayload
from collector.payloads.reports import FIELDS, parse_report
from collector.ui.render import page
from collector.ui.session import USER, ConsoleUser, see_other


def _form_page(request: web.Request, *, status: int = 200, error: str | None = None,
               values: dict[str, str] | None = None) -> web.Response:
    return page(request, "report.html", status=status, error=error, values=values or {},
                impacts=list(Criticality), urgencies=list(Urgency))


async def report_form(request: web.Request) -> web.Response:
    return _form_page(request)


async def report(request: web.Request) -> web.Response:
    form = await request.post()
    values = {key: value.strip() for key, value in form.items()
              if isinstance(value, str) and key in FIELDS - {"reporter"}}
    body = {key: value for key, value in values.items() if value}
    user: ConsoleUser = request[USER]
    try:
        parsed = parse_report(body, default_reporter=user.name)
    except BadPayload as exc:
        return _form_page(request, status=400, error=str(exc), values=values)
    ticket = await request.app[INTAKE].report(parsed)
    return see_other(f"/ui/ticket/{ticket.id}")
