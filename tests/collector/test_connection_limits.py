"""Connections a client opens and does not use cannot take the collector's file descriptors from
everyone else: a bound on open connections, and a deadline for a new connection's first
request (collector/http_server.py). Against the real `regie collector run` on SQLite, with real
sockets; the limits are made small so that the test opens tens of connections, not thousands.
"""

from __future__ import annotations

import json
import os
import select
import socket
import time

from tests.collector.conftest import collector_process

PARTIAL = b"GET /healthz HTTP/1.1\r\nHost: collector\r\n"   # headers never finished
CONFIG = "[server]\nmax_connections = 20\nheader_timeout = 3\n"
# The first test's half-sent requests must outlive the test: only the bound closes them.
PATIENT = "[server]\nmax_connections = 20\nheader_timeout = 600\n"


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(PARTIAL)
    return sock


def _closed_by_peer(sock: socket.socket, wait: float = 0.0) -> bool:
    """Whether the collector closed `sock` (EOF or reset), waiting up to `wait` seconds."""
    readable, _, _ = select.select([sock], [], [], wait)
    if not readable:
        return False
    try:
        return sock.recv(65536) == b""
    except (ConnectionResetError, TimeoutError):
        return True


def _until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _healthz(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: collector\r\nConnection: close\r\n\r\n")
        head = sock.recv(65536)
    return int(head.split(b" ", 2)[1])


def test_idle_connections_beyond_the_limit_are_closed_and_others_still_served(
        tmp_path, sqlite_db):
    """120 connections that send half a request: the oldest are closed to admit new ones, so
    the collector holds at most 20 (its descriptors do not grow with the client's), and an
    ordinary request is still answered. Before, all 120 stayed open for 75 s each."""
    with collector_process(tmp_path, sqlite_db, config=PATIENT) as collector:
        pid = collector.process.pid
        before = _open_fds(pid)
        idle = [_connect(collector.port) for _ in range(120)]
        try:
            assert _healthz(collector.port) == 200
            assert _until(lambda: sum(not _closed_by_peer(s) for s in idle
                                      if s.fileno() != -1) <= 20, 30)
            assert _open_fds(pid) <= before + 21
            # The newest are the ones kept: the oldest waited longest.
            assert not any(_closed_by_peer(s) for s in idle[-10:])
        finally:
            for sock in idle:
                sock.close()


def test_a_connection_that_sends_no_request_in_time_is_closed(tmp_path, sqlite_db):
    """Half a request, then nothing: closed after header_timeout (3 s here), not after the
    75 s keep-alive timeout."""
    with collector_process(tmp_path, sqlite_db, config=CONFIG) as collector:
        slow = _connect(collector.port)
        silent = socket.create_connection(("127.0.0.1", collector.port), timeout=10)
        try:
            assert _closed_by_peer(slow, wait=30)
            assert _closed_by_peer(silent, wait=30)
            assert _healthz(collector.port) == 200
        finally:
            slow.close()
            silent.close()


def test_when_every_connection_has_a_request_running_a_new_one_is_told_503(
        tmp_path, sqlite_db):
    """20 authenticated requests whose bodies never come hold every connection with a request
    running (none may be closed for another); the 21st connection gets a JSON 503 with
    Retry-After, and once they end the collector answers again."""
    with collector_process(tmp_path, sqlite_db, config=CONFIG) as collector:
        token = collector.tokens["responder"]
        busy = []
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", collector.port), timeout=10)
            sock.sendall(f"POST /api/v1/tickets HTTP/1.1\r\nHost: collector\r\n"
                         f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: 1000\r\n\r\n{{".encode())
            busy.append(sock)
        try:
            time.sleep(2.0)   # let the collector start reading their bodies
            with socket.create_connection(("127.0.0.1", collector.port), timeout=10) as sock:
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 503"), answer
            assert b"Retry-After: 5" in head
            assert "too many connections" in json.loads(body)["error"]
        finally:
            for sock in busy:
                sock.close()
        assert _until(lambda: _healthz(collector.port) == 200, 30)
