"""The console's pages: Jinja2 templates (collector/ui/templates/) with autoescaping on every
value, the security headers every console answer carries, and the small formatting helpers the
templates use (relative ages, UTC times).

Nothing inline: the look is collector/ui/static/console.css and the one script is
collector/ui/static/console.js, both served by the collector, so the Content-Security-Policy
allows scripts and styles from this origin only and nothing else runs (a ticket summary holding
`<script>` is text, escaped by the template, and could not run if it were not).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "Cache-Control": "no-store"}

# Menu entries in order; a None path is a page that comes with a later feature: shown, greyed.
NAV: tuple[tuple[str, str | None], ...] = (
    ("Queue", "/ui/queue"), ("On call", "/ui/oncall"), ("End of support", "/ui/eos"),
    ("Hosts", "/ui/hosts"), ("Report a problem", "/ui/report"),
    ("Changes", "/ui/changes"), ("Maintenance", "/ui/maintenance"),
    ("Vendor cases", "/ui/vendor-cases"),
)


def ago(moment: datetime | None, now: datetime) -> str:
    """"12 min", "3 h", "2 d" since `moment` (or "-")."""
    if moment is None:
        return "-"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        hours, rest = divmod(seconds, 3600)
        return f"{hours} h {rest // 60} min" if hours < 10 and rest >= 60 else f"{hours} h"
    return f"{seconds // 86400} d"


def utc(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


class _Undefined(jinja2.Undefined):
    """A key missing from a dict (an optional form value, a filter not given) is empty, as
    Jinja has it; an attribute missing from any other object is a template error, not an empty
    string, so that the tests rendering every page catch a template asking for what its object
    does not have."""

    __slots__ = ()

    def _strict(self) -> None:
        if self._undefined_obj is not jinja2.utils.missing and \
                not isinstance(self._undefined_obj, dict):
            self._fail_with_undefined_error()

    def __str__(self) -> str:
        self._strict()
        return super().__str__()

    def __bool__(self) -> bool:
        self._strict()
        return super().__bool__()

    def __iter__(self):
        self._strict()
        return super().__iter__()

    def __eq__(self, other: object) -> bool:
        self._strict()
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        self._strict()
        return super().__ne__(other)

    __hash__ = jinja2.Undefined.__hash__


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=_Undefined,
        trim_blocks=True, lstrip_blocks=True)
    env.globals["nav"] = NAV
    env.filters["utc"] = utc
    return env


ENV = _environment()


def page(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """Render `template` with `values` and the signed-in user (when there is one)."""
    from collector.ui.session import USER

    values.setdefault("user", request.get(USER))
    values.setdefault("here", request.path)
    text = ENV.get_template(template).render(**values)
    return web.Response(text=text, status=status, content_type="text/html", headers=HEADERS)


def message(request: web.Request, status: int, heading: str, reason: str) -> web.Response:
    """A refusal or an error a person reads: the status and the reason."""
    return page(request, "message.html", status=status, heading=heading, reason=reason)


async def static(request: web.Request) -> web.StreamResponse:
    """The stylesheet and the script (a fixed table: nothing else under static/ is served)."""
    name = request.match_info["name"]
    kind = ASSETS.get(name)
    if kind is None:
        return message(request, 404, "Not found", f"no asset named {name[:80]!r}")
    return web.Response(body=(STATIC / name).read_bytes(), content_type=kind,
                        headers={**HEADERS, "Cache-Control": "public, max-age=300"})


ASSETS = {"console.css": "text/css", "console.js": "text/javascript",
          "favicon.svg": "image/svg+xml"}
