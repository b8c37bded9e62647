"""Who is using the console: log in with a token, a session cookie, a CSRF token per session.

- Log in (`POST /ui/login`) with a personal or role token; it is verified by the same
  Authenticator as the API's bearer tokens (collector/auth.py: stored hashed, compared in
  constant time). Tokens whose role cannot read (agent, ingest) are refused.
- The session lives in the database (collector/store/sessions.py), the cookie holds only its
  random id: `HttpOnly`, `SameSite=Strict`, `Secure` under TLS (or `[ui] secure_cookies` behind
  a TLS proxy), `Path=/ui/`. It ends at `[ui] session_hours`, at logout, or when its token is
  revoked.
- Every form carries the session's CSRF token; every POST is refused (403) unless the token
  matches (`hmac.compare_digest`). The login form, before any session, uses a double-submit
  cookie in the same way.
- Each console route is declared with the permission it needs (collector/handlers/__init__.py
  CONSOLE_ROUTES); a viewer's POST to an action is refused (403) even though its page shows
  no button.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

from collector.app import AUTH, INTAKE, SETTINGS, STORES, Handler, Route
from collector.auth import Permission, Principal, Role
from collector.store.sessions import Session, SessionStore
from collector.ui.render import HEADERS, message, page

COOKIE = "regie_session"
LOGIN_COOKIE = "regie_login"   # the login form's double-submit CSRF token
USER = web.RequestKey("console_user", object) if hasattr(web, "RequestKey") else "regie.user"
SESSIONS = web.AppKey("console_sessions", SessionStore)


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    principal: Principal
    session: Session

    @property
    def name(self) -> str:
        """Who the timeline names: the token's person, else the token's name."""
        return self.principal.person or self.principal.name

    @property
    def csrf(self) -> str:
        return self.session.csrf

    def may(self, permission: str) -> bool:
        return self.principal.may(Permission(permission))


def _secure(request: web.Request) -> bool:
    return request.secure or request.app[SETTINGS].ui.secure_cookies


def _set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str,
                max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/ui/", httponly=True,
                        secure=_secure(request), samesite="Strict")


def install(app: web.Application, routes: Sequence[Route]) -> None:
    """Add the console's routes, each behind the session check its permission asks for."""

    async def sessions_ctx(app: web.Application):
        app[SESSIONS] = SessionStore(app[STORES].engine)
        yield

    app.cleanup_ctx.append(sessions_ctx)
    for route in routes:
        app.router.add_route(route.method, route.path, _guarded(route), name=route.name)


def _guarded(route: Route) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        if route.permission is None:
            return await route.handler(request)
        now = request.app[INTAKE].now()
        session = await request.app[SESSIONS].find(request.cookies.get(COOKIE, ""), now=now)
        if session is None:
            if request.method == "GET":
                target = request.path_qs if request.path != "/ui/logout" else "/ui/queue"
                return see_other(f"/ui/login?next={quote(target, safe='')}")
            return message(request, 401, "Not logged in",
                           "your session has ended or never began: log in again")
        principal = Principal(token_id=session.token_id, name=session.token_name,
                              role=Role(session.role), person=session.person)
        user = ConsoleUser(principal, session)
        request[USER] = user
        if not principal.may(route.permission):
            return message(request, 403, "Not allowed",
                           f"role {principal.role.value!r} may not {route.permission.value}")
        if request.method == "POST":
            try:
                form = await read_form(request)
            except FormUnreadable as exc:
                return message(request, 400, "Form refused", str(exc))
            given = form.get("csrf")
            if not isinstance(given, str) or not hmac.compare_digest(
                    given.encode(), session.csrf.encode()):
                return message(request, 403, "Form refused",
                               "the form's anti-forgery token is missing or wrong: reload the "
                               "page and try again")
        return await route.handler(request)

    return handler


class FormUnreadable(ValueError):
    """A POSTed form that cannot be read as text every database stores; the reason says why."""


# The console's pages are UTF-8, so browsers send their forms as UTF-8 (most say no charset).
_FORM_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_SURROGATE = re.compile("[\ud800-\udfff]")


async def read_form(request: web.Request) -> MultiDictProxy:
    """The POSTed form (aiohttp keeps it: later `request.post()` calls return the same), or
    FormUnreadable. Refused before any field is used: a charset other than UTF-8 (aiohttp
    decodes with any codec Python has, and an unknown one, `rot13` or `utf-32` raised), bytes
    that are not UTF-8, a multipart body it cannot take apart (no boundary, a part without a
    name or with a head that is not one, nested parts), and a lone surrogate in a name or
    value (`charset=unicode_escape` makes `\\ud800` one, which no database stores): each was
    a 500 with a traceback, some on the login form before any session."""
    charset = request.charset
    if charset is not None and charset.lower() not in _FORM_CHARSETS:
        raise FormUnreadable(f"a form is sent as UTF-8, not as {charset[:40]!r}")
    try:
        form = await request.post()
    except web.HTTPException:   # 413: the body is larger than [server] max_body_bytes
        raise
    except (ValueError, LookupError, web.RequestPayloadError,
            HttpProcessingError) as exc:  # UnicodeError is a ValueError; a part's bad head
        raise FormUnreadable(f"the form cannot be read ({type(exc).__name__}): send it as "
                             "UTF-8 form fields") from None
    for key, value in form.items():
        if _SURROGATE.search(key) or (isinstance(value, str) and _SURROGATE.search(value)):
            raise FormUnreadable(f"{_SURROGATE.sub('?', key)[:40]}: contains a lone "
                                 "surrogate, which no database stores")
    return form


# What a Location header may carry as is: printable ASCII but the characters RFC 3986 never
# allows in a URL; the rest (spaces, non-ASCII text) is percent-encoded as UTF-8.
_LOCATION_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"<>\\^`{|}')
_MAX_NEXT = 2000


def _next(value: str | None) -> str:
    """Where to go after logging in: a console path only (no open redirect), as a Location
    header can hold it. A control character (CR, LF, NUL, tab, DEL) made aiohttp refuse the
    header after the handler had answered: the connection closed without a response and a
    traceback was logged; non-ASCII text went out as raw UTF-8 bytes."""
    if (value and value.startswith("/ui/") and "\\" not in value and len(value) <= _MAX_NEXT
            and not any(c < " " or c == "\x7f" for c in value)):
        try:
            return quote(value, safe=_LOCATION_SAFE)
        except UnicodeEncodeError:   # a lone surrogate, from a query's percent-escapes
            pass
    return "/ui/queue"


async def login_page(request: web.Request) -> web.Response:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", user=None, csrf=token,
                    next=_next(request.query.get("next")), error=None)
    _set_cookie(response, request, LOGIN_COOKIE, token, max_age=3600)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    try:
        form = await read_form(request)
    except FormUnreadable as exc:
        return message(request, 400, "Form refused", str(exc))
    expected = request.cookies.get(LOGIN_COOKIE, "")
    given = form.get("csrf")
    if not expected or not isinstance(given, str) or not hmac.compare_digest(
            given.encode(), expected.encode()):
        return message(request, 403, "Form refused",
                       "the login form's anti-forgery token is missing or wrong: open the "
                       "login page again")
    target = _next(form.get("next") if isinstance(form.get("next"), str) else None)  # type: ignore[arg-type]
    token = form.get("token")
    who = await request.app[AUTH].principal(token.strip() if isinstance(token, str) else None)
    if who is None or not who.may(Permission.READ):
        reason = ("this token may not use the console (its role cannot read tickets)"
                  if who is not None else "unknown or revoked token")
        fresh = secrets.token_urlsafe(32)
        response = page(request, "login.html", status=401, user=None, csrf=fresh,
                        next=target, error=reason)
        _set_cookie(response, request, LOGIN_COOKIE, fresh, max_age=3600)
        return response
    settings = request.app[SETTINGS].ui
    now = request.app[INTAKE].now()
    lifetime = timedelta(hours=settings.session_hours)
    cookie, _ = await request.app[SESSIONS].open(who.token_id, now=now,
                                                 expires_at=now + lifetime)
    response = see_other(target)
    _set_cookie(response, request, COOKIE, cookie, max_age=int(lifetime.total_seconds()))
    response.del_cookie(LOGIN_COOKIE, path="/ui/")
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    user: ConsoleUser = request[USER]
    await request.app[SESSIONS].close(user.session.id_hash)
    response = see_other("/ui/login")
    response.del_cookie(COOKIE, path="/ui/")
    return response


async def home(request: web.Request) -> web.StreamResponse:
    return see_other("/ui/queue")


def see_other(target: str) -> web.Response:
    """303 to `target` (after a form: the browser GETs it, and a reload posts nothing)."""
    return web.Response(status=303, headers={**HEADERS, "Location": target})
