"""The collector's HTTP server: aiohttp's, with a bound on open connections and on the time a
new connection may take to send its first request.

aiohttp alone keeps a connection that sends nothing, or half a request, until its keep-alive
timeout (75 s), and accepts as many as the process has file descriptors: a few thousand idle
connections from one client would take every descriptor, and with them the database's files
and connections, from every sender. Here:

- a new connection must deliver its first request's headers within `[server] header_timeout`
  seconds, else it is closed (a keep-alive connection idles at most 75 s between requests);
- at most `[server] max_connections` are open. A new connection beyond that closes the
  connection that has waited longest without a request running (for its first request, or
  idle between requests); when every connection has a request running, the new one is
  answered 503 with `Retry-After` and closed. A TLS connection counts once its handshake is
  done; handshakes have a 10 s deadline.

`serve` runs the application as `aiohttp.web.run_app` would (signals, graceful shutdown) with
the guarded protocol factory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger("regie.collector.http")

KEEPALIVE_TIMEOUT_S = 75.0
TLS_HANDSHAKE_TIMEOUT_S = 10.0
_BUSY = json.dumps({"error": "the collector has too many connections open; try again"})
_BUSY_ANSWER = (f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                f"Retry-After: 5\r\nConnection: close\r\nContent-Length: {len(_BUSY)}\r\n"
                f"\r\n{_BUSY}").encode()


class _Refused(asyncio.Protocol):
    """A connection over the limit while every open one has a request running: one 503, then
    closed (Alertmanager and agents send again later)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(_BUSY_ANSWER)
        transport.close()


class ConnectionGuard:
    """The protocol factory the listening sockets use: aiohttp's request handlers, counted from
    accept() to close, each with its deadline for a first request."""

    def __init__(self, *, max_connections: int, header_timeout: float,
                 loop: asyncio.AbstractEventLoop) -> None:
        self._server: web.Server | None = None   # aiohttp's, once the runner has made it
        self._kwargs: dict[str, Any] = {}
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self._loop = loop
        # Open connections, oldest first: accepted at (loop time); connected once aiohttp's
        # handler has its transport (after the TLS handshake on a TLS port).
        self._open: dict[RequestHandler, float] = {}
        self._connected: set[RequestHandler] = set()
        self._running: dict[RequestHandler, int] = {}   # requests running per connection
        self._served: set[RequestHandler] = set()        # had a request's headers
        self._evicted = _Tally("closed connections waiting for a request, to admit new ones",
                               loop)
        self._slow = _Tally("closed connections that sent no request within "
                            f"server.header_timeout = {header_timeout:g} s", loop)

    def attach(self, server: web.Server) -> None:
        self._server = server
        self._kwargs = dict(server._kwargs)  # what aiohttp gives each of its handlers

    def __call__(self) -> asyncio.BaseProtocol:
        self._forget_failed_handshakes()
        if len(self._connected) >= self.max_connections and all(
                self._running.get(handler) for handler in self._connected):
            return _Refused()
        handler = _GuardedHandler(self, self._server, loop=self._loop, **self._kwargs)
        self._open[handler] = self._loop.time()
        return handler

    def connected(self, handler: RequestHandler) -> None:
        """A connection is counted once aiohttp has it (a burst accepted at once, or a TLS
        handshake, connects a moment after accept); beyond the bound, the one that has
        waited longest without a request running is closed, the new one itself if every
        other one has a request running (it is told 503 first)."""
        self._connected.add(handler)
        self._loop.call_later(self.header_timeout, self._deadline, handler)
        while len(self._connected) > self.max_connections:
            oldest = next((other for other in self._open if other in self._connected
                           and not self._running.get(other)), handler)
            if oldest is handler and handler.transport is not None:
                handler.transport.write(_BUSY_ANSWER)
            self._evicted.count()
            oldest.force_close()
            self.lost(oldest)

    def lost(self, handler: RequestHandler) -> None:
        self._open.pop(handler, None)
        self._connected.discard(handler)
        self._running.pop(handler, None)
        self._served.discard(handler)

    def _deadline(self, handler: RequestHandler) -> None:
        if handler in self._open and handler not in self._served:
            self._slow.count()
            handler.force_close()

    def _forget_failed_handshakes(self) -> None:
        """A TLS connection whose handshake fails never reaches aiohttp's handler (no
        connection_lost): forget those past the handshake's deadline."""
        horizon = self._loop.time() - TLS_HANDSHAKE_TIMEOUT_S - 1.0
        for handler, accepted in list(self._open.items()):
            if accepted >= horizon:
                break
            if handler not in self._connected:
                self.lost(handler)

    @web.middleware
    async def middleware(self, request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                         ) -> web.StreamResponse:
        """Outermost: marks the connection as having sent a request, and running one."""
        connection = request.protocol
        if connection not in self._open:    # closed meanwhile: nothing to keep for it
            return await handler(request)
        self._served.add(connection)
        self._running[connection] = self._running.get(connection, 0) + 1
        try:
            return await handler(request)
        finally:
            if connection in self._open:
                self._running[connection] -= 1


class _Tally:
    """One WARNING line per minute at most for a kind of closed connection: the first at
    once, then how many more (a client opening thousands must not flood the log)."""

    def __init__(self, what: str, loop: asyncio.AbstractEventLoop) -> None:
        self.what = what
        self._loop = loop
        self._unlogged = 0
        self._logged_at: float | None = None

    def count(self) -> None:
        self._unlogged += 1
        now = self._loop.time()
        if self._logged_at is None or now - self._logged_at >= 60.0:
            log.warning("%s: %d", self.what, self._unlogged)
            self._unlogged, self._logged_at = 0, now


class _GuardedHandler(RequestHandler):
    """aiohttp's request handler, reporting its connection's start and end to the guard."""

    __slots__ = ("_guard",)

    def __init__(self, guard: ConnectionGuard, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = guard

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._guard.connected(self)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._guard.lost(self)
        super().connection_lost(exc)


def serve(app: web.Application, *, host: str, port: int, ssl_context: ssl.SSLContext | None,
          max_connections: int, header_timeout: float, shutdown_timeout: float = 10.0) -> None:
    """Serve `app` until SIGINT or SIGTERM, then shut down as `web.run_app` does."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and max_connections > soft - 64:
        # The database, log and notification connections need descriptors too.
        log.warning("server.max_connections = %d is lowered to %d: the open-files limit is %d",
                    max_connections, max(1, soft - 64), soft)
        max_connections = max(1, soft - 64)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT_S,
                           shutdown_timeout=shutdown_timeout, handle_signals=True)
    guard = ConnectionGuard(max_connections=max_connections, header_timeout=header_timeout,
                            loop=loop)
    app.middlewares.insert(0, guard.middleware)   # outermost: before the errors' and auth's

    async def main() -> None:
        await runner.setup()
        assert runner.server is not None
        guard.attach(runner.server)
        listener = None
        try:
            listener = await loop.create_server(
                guard, host, port, ssl=ssl_context, backlog=128, reuse_address=True,
                ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT_S if ssl_context else None)
            await asyncio.Event().wait()
        finally:
            if listener is not None:
                listener.close()
            await runner.cleanup()

    task = loop.create_task(main())
    try:
        loop.run_until_complete(task)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, web.GracefulExit, KeyboardInterrupt):
                loop.run_until_complete(task)
        rest = asyncio.all_tasks(loop)
        for pending in rest:
            pending.cancel()
        loop.run_until_complete(asyncio.gather(*rest, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

