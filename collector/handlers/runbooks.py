"""The bundled runbooks over HTTP, for the person an alert woke up.

`GET /runbooks/` (the index: every rule's name and what its alert means), `GET /runbooks/{rule}`
(the rule's page, rendered from docs/runbooks/<rule>.md) and `GET /ui/runbook.css` (their
stylesheet). Public, like /healthz: a ticket and every notification link a rule's page, and the
on-call engineer opens it from an e-mail on a phone, without an API token. The pages are Regie's
own documentation, the same for every installation; they hold no data of the installation.
Read-only; a query parameter is refused (400) like everywhere else.
"""

from __future__ import annotations

import functools

from aiohttp import web

from collector.payloads.fields import BadPayload
from collector.query import Path, PathWord, Query
from collector.runbooks import NAME, Runbooks
from collector.ui.handlers import wants_html
from collector.ui.runbook_page import (
    HEADERS,
    STYLESHEET,
    index_page,
    not_found_page,
    runbook_page,
)

RUNBOOK_PATH = Path(PathWord(name="rule", pattern=NAME,
                             rule="a rule name: a letter, then letters, digits or '_' (at "
                                  "most 200)"))
NO_QUERY = Query()


@functools.cache
def bundled() -> Runbooks:
    """Read once, on the first request (not at import)."""
    return Runbooks.bundled()


def _html(page: str, status: int = 200) -> web.Response:
    return web.Response(text=page, status=status, content_type="text/html", headers=HEADERS)


async def index(request: web.Request) -> web.Response:
    NO_QUERY.parse(request.query)
    return _html(index_page(bundled()))


async def page(request: web.Request) -> web.Response:
    NO_QUERY.parse(request.query)
    try:
        rule = RUNBOOK_PATH.parse(request)["rule"]
    except BadPayload as exc:
        if wants_html(request):
            return _html(not_found_page(request.match_info["rule"][:200]), 400)
        raise exc from None
    runbook = bundled().get(rule)
    if runbook is None:
        if wants_html(request):
            return _html(not_found_page(rule), 404)
        return web.json_response({"error": f"no runbook for {rule!r}: GET /runbooks/ lists "
                                           f"them"}, status=404)
    return _html(runbook_page(runbook))


async def stylesheet(request: web.Request) -> web.Response:
    NO_QUERY.parse(request.query)
    return web.Response(text=STYLESHEET, content_type="text/css", headers=HEADERS)
