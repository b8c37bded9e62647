"""The collector's aiohttp application: factory, middlewares, routes, background loops.

Handlers are thin (collector/handlers/): parse (collector/payloads/) -> domain -> store ->
answer. Two middlewares wrap them: `errors` turns every refusal into a JSON 4xx with a reason
(a malformed body is never a 500; aiohttp's own refusals keep their headers, a 405 its Allow),
a database that is unreachable into 503 with Retry-After and a full disk into 507 (logged once
per failure streak, collector/failure_streak.py), and `authenticate` requires a bearer token
with the route's permission everywhere except /healthz. Long-lived resources (engine,
evaluator loop) are owned by `cleanup_ctx` and released in reverse order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from collector.auth import Authenticator, Permission, Principal, bearer
from collector.config import CollectorSettings
from collector.failure_streak import FailureStreak
from collector.intake import Intake
from collector.metrics import CollectorMetrics
from collector.payloads import json_body
from collector.payloads.fields import BadPayload
from collector.store.failures import StoreFailure, failure_of

log = logging.getLogger("regie.collector")

SETTINGS = web.AppKey("settings", CollectorSettings)
INTAKE = web.AppKey("intake", Intake)
METRICS = web.AppKey("metrics", CollectorMetrics)
AUTH = web.AppKey("auth", Authenticator)
STORES = web.AppKey("stores", object)
ONCALL = web.AppKey("oncall", object)     # service.Oncall, when on-call is configured
REGISTRY = web.AppKey("registry", object)  # collector.registry.Registry
HOSTS = web.AppKey("hosts", object)        # collector.host_names.KnownHosts
MAINTENANCE = web.AppKey("maintenance", object)  # collector.maintenance.Maintenance
# One failure streak per kind of database failure (collector/failure_streak.py).
FAILURES = web.AppKey("failures", dict)
# The authenticated caller, stored on the request (a typed key where aiohttp has them).
PRINCIPAL = (web.RequestKey("principal", Principal) if hasattr(web, "RequestKey")
             else "regie.principal")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    permission: Permission | None     # None: no token needed (/healthz only)
    name: str


# How a database failure is answered (classified by collector/store/failures.py): status,
# reason, and the seconds after which a retry may succeed. A PostgreSQL restart or failover
# takes seconds; a full disk waits for someone to free space.
STORE_FAILURE_ANSWERS: dict[StoreFailure, tuple[int, str, int]] = {
    # Not "nothing was written": a connection lost during the commit itself leaves it unknown.
    StoreFailure.UNAVAILABLE: (503, "the database is unavailable; retry later", 5),
    StoreFailure.DISK_FULL: (507, "the database's disk is full; nothing was written", 60),
}


def _kept_headers(exc: web.HTTPException) -> dict[str, str]:
    return {name: value for name, value in exc.headers.items()
            if name.lower() not in ("content-type", "content-length")}


def error_response(status: int, reason: str, **extra: object) -> web.Response:
    return web.json_response({"error": reason, **extra}, status=status)


async def read_json(request: web.Request) -> object:
    """The request body as JSON, or a 4xx that says why not."""
    if request.content_type not in ("application/json", "application/octet-stream", ""):
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps({"error": "Content-Type must be application/json"}),
            content_type="application/json")
    try:
        raw = await request.read()  # over server.max_body_bytes: HTTPRequestEntityTooLarge
    except web.RequestPayloadError:  # a corrupt gzip or deflate stream (Content-Encoding)
        encoding = request.headers.get("Content-Encoding", "")[:40]
        raise BadPayload(f"body: cannot be decoded as Content-Encoding {encoding!r}") from None
    # Bounded before parsing: nesting, number sizes, and every string storable on every
    # backend (collector/payloads/json_body.py), so no bad value reaches a shared transaction.
    return json_body.decode(raw)


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def make_app(settings: CollectorSettings, *, stores_ctx,
             extra_ctx: list | None = None) -> web.Application:
    """`stores_ctx(app)`: an async generator setting STORES, INTAKE and AUTH (service.py)."""
    from collector.handlers import ROUTES

    by_resource: dict[tuple[str, str], Route] = {}

    @web.middleware
    async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadPayload as exc:
            return _rejected(request, 400, str(exc))
        except web.HTTPRequestEntityTooLarge:
            limit = request.app[SETTINGS].server.max_body_bytes
            return _rejected(request, 413, f"body larger than {limit} bytes")
        except web.HTTPException as exc:
            if exc.status >= 400 and exc.content_type != "application/json":
                # aiohttp's own refusals (404, 405 ...) as JSON, keeping their headers: a 405
                # must say what is allowed (RFC 9110, Allow).
                return _rejected(request, exc.status, exc.reason, headers=_kept_headers(exc))
            raise
        except ConnectionResetError as exc:
            if request.transport is None:
                # The client closed its connection before its body arrived (aiohttp's
                # "Connection lost" is an OSError, which would read as the database's): its
                # own doing, nobody to answer, nothing in the log but a debug line.
                log.debug("%s %s: the client closed the connection before its body arrived",
                          request.method, _endpoint(request))
                return _rejected(request, 400, "the connection was closed before the body "
                                               "arrived")
            return _failed(request, exc)
        except Exception as exc:  # every failure gets a JSON answer, a bug too
            return _failed(request, exc)

    def _endpoint(request: web.Request) -> str:
        route = request.match_info.route
        return route.resource.canonical if route.resource else "unmatched"

    def _rejected(request: web.Request, status: int, reason: str,
                  headers: dict[str, str] | None = None) -> web.Response:
        request.app[METRICS].rejected.labels(_endpoint(request), str(status)).inc()
        return web.json_response({"error": reason}, status=status, headers=headers)

    def _failed(request: web.Request, exc: Exception) -> web.Response:
        failure = failure_of(exc)
        if failure is None:
            # The route's pattern, not the path: a one-click link's path is its credential.
            resource = request.match_info.route.resource
            log.exception("%s %s failed", request.method,
                          resource.canonical if resource else "(no route)")
            return error_response(500, "internal error (the collector's log has the details)")
        # The database's condition, not a bug: one log line per streak, not per request.
        request.app[FAILURES][failure].failed(exc)
        status, reason, retry_after = STORE_FAILURE_ANSWERS[failure]
        return web.json_response({"error": reason}, status=status,
                                 headers={"Retry-After": str(retry_after)})

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        route = by_resource.get((request.method, resource.canonical if resource else ""))
        if route is None or route.permission is None:
            return await handler(request)
        token = bearer(request.headers.get("Authorization"))
        if token is None and route.name == "events":
            # The Events API carries its token in the body (routing_key); the handler checks it.
            return await handler(request)
        who = await request.app[AUTH].principal(token)
        if who is None:
            raise web.HTTPUnauthorized(
                text=json.dumps({"error": "a valid bearer token is required"}),
                content_type="application/json",
                headers={"WWW-Authenticate": 'Bearer realm="regie"'})
        if not who.may(route.permission):
            raise web.HTTPForbidden(
                text=json.dumps({"error": f"role {who.role.value!r} may not "
                                          f"{route.permission.value}"}),
                content_type="application/json")
        request[PRINCIPAL] = who
        return await handler(request)

    app = web.Application(middlewares=[errors, authenticate],
                          client_max_size=settings.server.max_body_bytes)
    app[SETTINGS] = settings
    app[METRICS] = CollectorMetrics()
    app[FAILURES] = {kind: FailureStreak(kind.value, log) for kind in StoreFailure}
    for route in ROUTES:
        resource = app.router.add_route(route.method, route.path, route.handler,
                                        name=route.name).resource
        by_resource[(route.method, resource.canonical)] = route
    app.cleanup_ctx.append(stores_ctx)
    app.cleanup_ctx.append(_watch_store)
    if settings.ui.enabled:   # the operator console: its own session check per route
        from collector.handlers import CONSOLE_ROUTES
        from collector.ui.session import install

        install(app, CONSOLE_ROUTES)
    for ctx in extra_ctx or ():
        app.cleanup_ctx.append(ctx)
    return app


async def _watch_store(app: web.Application):
    """End the failure streaks when the database answers again, and writes commit again."""
    from collector.store.engine import observe

    streaks = app[FAILURES]
    engine = getattr(app.get(STORES), "engine", None)
    if engine is not None:
        def committed() -> None:
            for streak in streaks.values():
                streak.succeeded()

        observe(engine, answered=streaks[StoreFailure.UNAVAILABLE].succeeded,
                committed=committed)
    yield
