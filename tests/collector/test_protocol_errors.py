"""Requests aiohttp's HTTP parser refuses cannot flood the collector's log.

Real collector process (`regie collector run`, SQLite), raw bytes on real sockets. Such a
request is refused before any route runs, so the collector cannot answer it in JSON (aiohttp
has no hook for it, docs/api.md); what it controls is the log: aiohttp wrote a traceback at
ERROR for every one, and a sender could fill the disk with them. Now the first of a streak is
one WARNING line without a traceback, and the rest are counted into a summary line at most
every `collector.log_format.BAD_REQUEST_SUMMARY_SECONDS`.
"""

from __future__ import annotations

import logging
import socket
import sys

import pytest

from tests.collector.conftest import collector_process
from tests.services import wait_for

# Each is refused by the parser itself: raw bytes over 127 in the request line, a head that
# is not HTTP, a header without a name, a Content-Encoding aiohttp cannot undo or a body it
# cannot decode.
BAD_REQUESTS = [
    b"GET /api/v1/hosts/caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\n: no name\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n",
    b"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Encoding: zstd\r\nContent-Length: 4\r\n\r\nabcd",
    b"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Encoding: br\r\nContent-Length: 4\r\n\r\nabcd",
    # A gzip stream that is not one: the handler answers 400 (JSON), and aiohttp meets the
    # parser's refusal again draining the body afterwards, which it logged as an "Unhandled
    # exception" with a traceback through the handler.
    b"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Encoding: gzip\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd",
]


def exchange(port: int, raw: bytes) -> bytes:
    """Send `raw`, read the answer until the collector closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(raw)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def collector(tmp_path, sqlite_db):
    with collector_process(tmp_path, sqlite_db) as service:
        yield service


def test_200_malformed_requests_are_each_refused_and_logged_as_one_line(collector, tmp_path):
    log = tmp_path / f"collector-{collector.port}.log"
    for n in range(200):
        answer = exchange(collector.port, BAD_REQUESTS[n % len(BAD_REQUESTS)])
        # The gzip one reaches the app, which asks for a token first (401) without reading
        # the body; aiohttp then drains the body, as it did after a 400, and meets the error.
        status = b"401 " if b"gzip" in BAD_REQUESTS[n % len(BAD_REQUESTS)] else b"400 "
        assert answer[:9] in (b"HTTP/1.0 ", b"HTTP/1.1 ") and answer[9:13] == status, \
            (n, answer[:200])
    # The collector still answers, and everything it has logged so far is on disk.
    assert collector.call("GET", "/healthz", token=None)[0] == 200
    text = wait_for(lambda: log.read_text(errors="replace") or None, timeout=10,
                    what="the collector's log")
    about = [line for line in text.splitlines()
             if "malformed HTTP request" in line or "Error handling request" in line
             or "Unhandled exception" in line]
    assert "Traceback" not in text, text[-3000:]
    assert "BadHttpMessage" not in text and "Error handling request" not in text, about
    assert "Unhandled exception" not in text, about
    assert 1 <= len(about) <= 3, about
    first = about[0]
    assert " WARNING aiohttp.server: refused a malformed HTTP request from 127.0.0.1" in first
    # A sender's bytes never reach the log as they are (a control character, here \x01).
    assert "\x01" not in text


def test_other_errors_of_the_server_keep_their_traceback():
    """Only the parser's refusals are digested: any other aiohttp.server error is a fault
    to see whole. (In-process: the filter alone, fed the records aiohttp writes, with an
    injected clock.)"""
    from aiohttp.http_exceptions import BadHttpMessage

    from collector.log_format import BadRequestDigest

    clock = [0.0]
    digest = BadRequestDigest(clock=lambda: clock[0])

    def record(exc: BaseException) -> logging.LogRecord:
        try:
            raise exc
        except BaseException:
            return logging.LogRecord("aiohttp.server", logging.ERROR, __file__, 1,
                                     "Error handling request from %s", ("10.0.0.9",),
                                     sys.exc_info())

    other = record(RuntimeError("a bug"))
    assert digest.filter(other) and other.exc_info is not None and other.levelno == 40
    kept = []
    for second in range(0, 130):
        clock[0] = float(second)
        bad = record(BadHttpMessage("Invalid header value char"))
        if digest.filter(bad):
            kept.append((second, bad.levelname, bad.exc_info, bad.getMessage()))
    # The first line, then a summary every minute with the count since the last line.
    assert [(s, level, exc) for s, level, exc, _ in kept] == [
        (0, "WARNING", None), (60, "WARNING", None), (120, "WARNING", None)]
    assert kept[0][3].startswith("refused a malformed HTTP request from 10.0.0.9: 400, "
                                 "message: Invalid header value char"), kept[0][3]
    assert "60 more malformed HTTP requests" in kept[1][3], kept[1][3]
    # After a quiet spell a new streak starts with a line of its own.
    clock[0] = 1000.0
    bad = record(BadHttpMessage("again"))
    assert digest.filter(bad) and "refused a malformed HTTP request" in bad.getMessage()
    assert "9 more of the previous streak" in bad.getMessage(), bad.getMessage()


def test_debug_records_and_a_second_configure_are_left_alone():
    """aiohttp logs a non-HTTP first request at DEBUG: shown whole only to whoever asked for
    DEBUG. Configured twice (the demo runs the collector's start-up), one digest, not two."""
    from aiohttp.http_exceptions import BadHttpMethod

    from collector.log_format import BadRequestDigest, configure

    try:
        raise BadHttpMethod("\x16\x03\x01")
    except BadHttpMethod:
        info = sys.exc_info()
    debug = logging.LogRecord("aiohttp.server", logging.DEBUG, __file__, 1,
                              "Error handling request from %s", ("10.0.0.9",), info)
    assert BadRequestDigest().filter(debug) and debug.exc_info is info
    server, root = logging.getLogger("aiohttp.server"), logging.getLogger()
    before = (list(server.filters), list(root.handlers), root.level,
              logging.getLogger("alembic").level)
    try:
        configure("INFO")
        configure("INFO")
        assert sum(isinstance(f, BadRequestDigest) for f in server.filters) == 1
    finally:   # this process's logging as it was, for the tests that follow
        server.filters[:], root.handlers[:] = before[0], before[1]
        root.setLevel(before[2])
        logging.getLogger("alembic").setLevel(before[3])
