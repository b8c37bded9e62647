"""The agent's HTTP endpoint: /metrics (text or OpenMetrics, gzip), /healthz and a landing page.

Standard library only (asyncio): the agent must stay light and never needs aiohttp. One event
loop in one thread holds every connection, so a client that connects and sends nothing, or
sends its request a byte at a time, costs a few kilobytes and no thread:

- the TLS handshake runs in the loop with a deadline (`ssl_handshake_timeout`), so an idle
  socket on the TLS port never holds up anyone else;
- a request's line and headers must arrive within `header_timeout` (a total deadline, not per
  read) and within `max_header_bytes`; a keep-alive connection may idle `idle_timeout` between
  requests; a response the client does not read within `write_timeout` is abandoned;
- at most `max_connections` are open, counted from accept() (TLS handshakes in progress
  included); a new one beyond that evicts the connection that has been waiting longest for its
  handshake or its request's headers (slow clients go first; a connection whose scrape is
  running is never evicted), or is closed at once when there is none; running out of file
  descriptors evicts the same way;
- /metrics runs through `SharedScrapes` (agent/scrapes.py): one collection at a time in one
  worker thread, shared by the requests that arrive meanwhile, a bounded number waiting.

Only GET and HEAD are served; a request with a body is answered and its connection closed.
"""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import contextlib
import errno
import logging
import socket
import ssl
import threading
import urllib.parse
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry

from agent.http_stats import HttpStats
from agent.scrapes import Body, Busy, SharedScrapes

log = logging.getLogger(__name__)

_LANDING = b"""<!doctype html><html><head><title>Regie agent</title></head><body>
<h1>Regie agent</h1><p><a href="/metrics">Metrics</a> &middot; <a href="/healthz">Health</a></p>
</body></html>"""
_MAX_HEADERS = 100
# A body is handed to the transport this much at a time, each piece once the last is in the
# kernel: a client that reads slowly makes the agent hold one piece for it, not a copy of the
# rest of its answer (the socket transport copies what the kernel does not take at once).
_WRITE_CHUNK_BYTES = 16 * 1024
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            408: "Request Timeout", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 503: "Service Unavailable",
            505: "HTTP Version Not Supported"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerLimits:
    header_timeout: float = 10.0
    idle_timeout: float = 30.0
    write_timeout: float = 30.0
    handshake_timeout: float = 10.0
    max_connections: int = 512
    max_waiting_scrapes: int = 40
    max_header_bytes: int = 16 * 1024
    # Response bodies held for clients still reading them, all connections together (a body
    # shared by the requests of one collection counts once); beyond it the connection that
    # has been reading its answer longest is dropped.
    max_unsent_bytes: int = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    keep_alive: bool


class _BadRequest(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


# asyncio gives every TLS connection a read buffer of SSLProtocol.max_size (256 KiB), allocated
# and zeroed when the connection is accepted, before any handshake: the 512 connections the cap
# lets a client hold open on the TLS port cost 128 MiB, and 1,000 idle sockets took the agent
# to 215 MB RSS, past the 128 MB its unit allows. A TLS record carries at most 16 KiB of
# plaintext, so reads of 32 KiB lose nothing. The attribute is asyncio's own (not public API);
# in this process only this server speaks TLS through asyncio.
TLS_READ_BUFFER_BYTES = 32 * 1024


def _small_tls_buffers() -> None:
    protocol = getattr(asyncio.sslproto, "SSLProtocol", None)
    if protocol is not None and getattr(protocol, "max_size", 0) > TLS_READ_BUFFER_BYTES:
        protocol.max_size = TLS_READ_BUFFER_BYTES


def _tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    _small_tls_buffers()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    return context


def _listen(host: str, port: int) -> socket.socket:
    # The family is decided from the literal, not getaddrinfo(): CPython runs every getaddrinfo()
    # host through the IDNA codec, which loads unicodedata (~0.4 MB on every agent for one lookup).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # A scrape that arrives while the agent restarts must not fail on TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _parse_head(raw: bytes) -> _Request:
    text = raw.decode("latin-1")     # every byte decodes; header values stay opaque
    line, *header_lines = text[:-4].split("\r\n")
    parts = line.split(" ")
    if len(parts) != 3 or not parts[0].isalpha():
        raise _BadRequest(400, "malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise _BadRequest(505, "only HTTP/1.0 and HTTP/1.1")
    if len(header_lines) > _MAX_HEADERS:
        raise _BadRequest(431, "too many header fields")
    headers: dict[str, str] = {}
    for header in header_lines:
        name, sep, value = header.partition(":")
        # No folded lines and no space before the colon (RFC 9112 5.1, 5.2).
        if not sep or not name or name != name.strip() or header[0] in " \t":
            raise _BadRequest(400, "malformed header field")
        name = name.lower()
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    split = urllib.parse.urlsplit(target)
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    keep_alive = ("close" not in tokens if version == "HTTP/1.1" else "keep-alive" in tokens)
    if headers.get("content-length", "0").strip() not in ("", "0") or \
            "transfer-encoding" in headers:
        keep_alive = False   # the body is never read: the connection cannot be reused
    return _Request(method, split.path or "/", urllib.parse.parse_qs(split.query), headers,
                    keep_alive)


class _Connection:
    """One accepted socket: its task, and its stream writer once TLS (if any) is up."""

    __slots__ = ("sock", "started", "task", "writer")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.started = False     # set by the task's first step: from then its finally closes
        self.task: asyncio.Task[None] | None = None
        self.writer: asyncio.StreamWriter | None = None


class _Connections:
    """Open connections, counted from accept() (a TLS handshake in progress counts), and which
    of them are still waiting for a request (handshaking or reading its head), oldest first:
    the ones to evict when the cap is reached. A connection whose request is being answered
    is never evicted."""

    def __init__(self, stats: HttpStats) -> None:
        self._stats = stats
        self.open: set[_Connection] = set()
        self.waiting: OrderedDict[_Connection, None] = OrderedDict()
        # Connections writing a response, oldest first, with the body each holds.
        self.writing: OrderedDict[_Connection, bytes] = OrderedDict()

    def start_write(self, connection: _Connection, content: bytes, limit: int) -> None:
        """`connection` holds `content` until end_write(); the oldest other writers are
        dropped while the bodies held together exceed `limit`."""
        self.writing[connection] = content
        while self._unsent_bytes() > limit:
            oldest = next(iter(self.writing))
            if oldest is connection:
                return   # its own body alone is over: nothing older to let go
            self._stats.dropped["slow_reader"] += 1
            self.remove(oldest)
            if oldest.task is not None:
                oldest.task.cancel()   # its finally aborts the transport

    def end_write(self, connection: _Connection) -> None:
        self.writing.pop(connection, None)

    def _unsent_bytes(self) -> int:
        return sum(len(body) for body in {id(b): b for b in self.writing.values()}.values())

    def add(self, connection: _Connection, limit: int) -> bool:
        if len(self.open) >= limit and not self.evict_oldest():
            self._stats.dropped["over_limit"] += 1
            return False
        self.open.add(connection)
        self.waiting[connection] = None
        self._stats.open_connections = len(self.open)
        return True

    def evict_oldest(self) -> bool:
        if not self.waiting:
            return False
        oldest, _ = self.waiting.popitem(last=False)
        self._stats.dropped["evicted"] += 1
        self.remove(oldest)
        if oldest.task is not None:
            oldest.task.cancel()     # once started, its finally closes the socket
        if not oldest.started:
            # A task cancelled before its first step never runs its body (nor its finally).
            oldest.sock.close()
        return True

    def remove(self, connection: _Connection) -> None:
        self.open.discard(connection)
        self.waiting.pop(connection, None)
        self.writing.pop(connection, None)
        self._stats.open_connections = len(self.open)


# accept() errors that mean "no room for another descriptor or buffer now": make room.
_NO_ROOM = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class MetricsServer:
    """Serves in a daemon thread running its own event loop; `close()` stops it."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int, *,
                 tls_cert_file: Path | None = None, tls_key_file: Path | None = None,
                 limits: ServerLimits | None = None, stats: HttpStats | None = None) -> None:
        self.limits = limits or ServerLimits()
        self.stats = stats or HttpStats()
        self._tls = (_tls_context(tls_cert_file, tls_key_file)
                     if tls_cert_file is not None and tls_key_file is not None else None)
        self.scheme = "https" if self._tls else "http"
        # Bound here, in the caller's thread, so a port in use is an error of the constructor.
        self._socket = _listen(host, port)
        self._port = self._socket.getsockname()[1]
        self._scrapes = SharedScrapes(registry, self.stats,
                                      max_waiting=self.limits.max_waiting_scrapes)
        self._connections = _Connections(self.stats)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-http", daemon=True)

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def close(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop)
            self._thread.join(10)
        else:
            self._socket.close()
        self._scrapes.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        accepting = asyncio.create_task(self._accept())
        self._ready.set()
        await self._stopping.wait()
        accepting.cancel()
        self._socket.close()
        tasks = [c.task for c in self._connections.open if c.task is not None]
        for task in tasks:
            task.cancel()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.gather(accepting, *tasks, return_exceptions=True)

    def _stop(self) -> None:
        self._stopping.set()

    async def _accept(self) -> None:
        """Accept here rather than in asyncio.start_server: the connection is counted (and
        the cap enforced) from accept(), before a TLS handshake that may never come."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                sock, _address = await loop.sock_accept(self._socket)
            except OSError as exc:
                if exc.errno not in _NO_ROOM:
                    log.warning("accept() failed: %s", exc.strerror or exc)
                # Out of descriptors: drop the slowest waiting client, or pause briefly.
                if not self._connections.evict_oldest():
                    await asyncio.sleep(0.1)
                continue
            connection = _Connection(sock)
            if not self._connections.add(connection, self.limits.max_connections):
                sock.close()
                continue
            connection.task = asyncio.create_task(self._serve_connection(connection))

    async def _serve_connection(self, connection: _Connection) -> None:
        connection.started = True
        loop = asyncio.get_running_loop()
        # `limit` bounds the reader's buffer: the whole request head must fit in it.
        reader = asyncio.StreamReader(limit=self.limits.max_header_bytes, loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        writer = None
        try:
            try:
                async with asyncio.timeout(self.limits.handshake_timeout):
                    transport, _ = await loop.connect_accepted_socket(
                        lambda: protocol, connection.sock, ssl=self._tls,
                        ssl_handshake_timeout=self.limits.handshake_timeout
                        if self._tls else None)
            except (OSError, ssl.SSLError, TimeoutError):
                self.stats.dropped["tls_handshake"] += 1
                return
            writer = connection.writer = asyncio.StreamWriter(transport, protocol, reader, loop)
            # drain() returns only once everything is handed to the kernel: the write deadline
            # then covers the whole response, and closing never cuts one short. The socket
            # transport pauses above its high-water mark, the SSL transport at or above it: a
            # mark of 0 there paused and resumed at every write, so a response written in one
            # piece (HEAD, an empty body) waited in drain() for the write deadline.
            transport.set_write_buffer_limits(high=1 if self._tls else 0, low=0)
            await self._requests(connection, reader, writer)
        except (ConnectionError, ssl.SSLError):
            pass   # the client went away or broke TLS: nothing to answer
        finally:
            self._connections.remove(connection)
            if writer is not None:
                writer.transport.abort()
            else:
                connection.sock.close()

    async def _requests(self, connection: _Connection, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter) -> None:
        first = True
        while True:
            if not first:
                self._connections.waiting[connection] = None
            try:
                head = await self._read_head(reader, first)
            except asyncio.LimitOverrunError:
                self.stats.dropped["bad_request"] += 1
                await self._answer(connection, writer, _error(431, "request head too large"),
                                   False, True)
                return
            finally:
                self._connections.waiting.pop(connection, None)
            if head is None:
                return
            first = False
            try:
                request = _parse_head(head)
            except _BadRequest as exc:
                self.stats.dropped["bad_request"] += 1
                await self._answer(connection, writer, _error(exc.status, str(exc)), False,
                                   True)
                return
            answer = await self._respond(request)
            # A client told to come back later (503) is let go: requests it pipelined behind
            # that one would each be another 503 at once.
            close = not request.keep_alive or answer[0] == 503
            if not await self._answer(connection, writer, answer, request.method == "HEAD",
                                      close) or close:
                return
            # Requests already buffered (pipelined) are read and answered without awaiting
            # anything that suspends: give the other connections their turn between two.
            await asyncio.sleep(0)

    async def _read_head(self, reader: asyncio.StreamReader, first: bool) -> bytes | None:
        """The request line and headers, or None when the client closed or was too slow."""
        now = asyncio.get_running_loop().time()
        # Between keep-alive requests the client may idle; a new connection's first request
        # must be complete within the header deadline, counted from the connection.
        started = now + (self.limits.header_timeout if first else self.limits.idle_timeout)
        try:
            async with asyncio.timeout_at(started):
                start = await reader.readexactly(1)
        except TimeoutError:
            self.stats.dropped["header_timeout" if first else "idle_timeout"] += 1
            return None
        except asyncio.IncompleteReadError:
            return None   # closed by the client, maybe between requests
        try:
            # A total deadline for the whole head: a byte every few seconds does not extend it.
            deadline = (started if first else
                        asyncio.get_running_loop().time() + self.limits.header_timeout)
            async with asyncio.timeout_at(deadline):
                return start + await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            self.stats.dropped["header_timeout"] += 1
            return None
        except asyncio.IncompleteReadError:
            return None

    async def _respond(self, request: _Request) -> tuple[int, Body]:
        if request.method not in ("GET", "HEAD"):
            return 405, Body(b"only GET and HEAD\n", (("Content-Type", "text/plain"),
                                                      ("Allow", "GET, HEAD")))
        if request.path == "/metrics":
            try:
                return 200, await self._scrapes.body(request.headers, request.params)
            except Busy:
                return _error(503, "too many scrapes waiting; retry later")
            except Exception:
                log.exception("collecting metrics failed")
                return _error(500, "collecting metrics failed")
        if request.path == "/healthz":
            return 200, Body(b"ok\n", (("Content-Type", "text/plain"),))
        if request.path == "/":
            return 200, Body(_LANDING, (("Content-Type", "text/html; charset=utf-8"),))
        return 404, Body(b"not found; try /metrics\n", (("Content-Type", "text/plain"),))

    async def _answer(self, connection: _Connection, writer: asyncio.StreamWriter,
                      answer: tuple[int, Body], head_only: bool, close: bool) -> bool:
        """Write one response; False when the client did not take it in time."""
        status, body = answer
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
                 *(f"{name}: {value}" for name, value in body.headers),
                 f"Content-Length: {len(body.content)}",
                 f"Connection: {'close' if close else 'keep-alive'}", "", ""]
        content = memoryview(b"" if head_only else body.content)
        self._connections.start_write(connection, body.content,
                                      self.limits.max_unsent_bytes)
        try:
            async with asyncio.timeout(self.limits.write_timeout):
                writer.write("\r\n".join(lines).encode("latin-1"))
                await writer.drain()
                for start in range(0, len(content), _WRITE_CHUNK_BYTES):
                    writer.write(content[start:start + _WRITE_CHUNK_BYTES])
                    await writer.drain()
        except TimeoutError:
            self.stats.dropped["write_timeout"] += 1
            return False
        finally:
            self._connections.end_write(connection)
        return True


def _error(status: int, reason: str) -> tuple[int, Body]:
    return status, Body(f"{reason}\n".encode(), (("Content-Type", "text/plain"),))
