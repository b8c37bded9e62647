"""Slow HTTP clients (slowloris): connect, send part of a request's head, and hang on.

Real sockets on loopback, driven from one thread without blocking; used by the agent's HTTP
tests and by bench/agent_slow_clients.py.
"""

from __future__ import annotations

import contextlib
import resource
import socket

PARTIAL_HEAD = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE towards `wanted` (never above the hard limit);
    children started afterwards inherit it. Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


class SlowClients:
    def __init__(self, port: int, count: int, *, head: bytes = PARTIAL_HEAD) -> None:
        self.port = port
        self.count = count
        self.head = head
        self.sockets: list[socket.socket] = []
        self.answers: list[bytes] = []

    def open(self) -> SlowClients:
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            sock.sendall(self.head)
            sock.setblocking(False)
            self.sockets.append(sock)
        return self

    def trickle(self, data: bytes = b"X") -> None:
        """One more byte of the head from each client still connected (a header that never
        ends: the server must not restart its deadline on each byte)."""
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.send(data)

    def still_open(self) -> int:
        """How many the server has not closed yet (nothing received, no EOF, no reset)."""
        alive = 0
        for sock in self.sockets:
            try:
                sock.recv(1, socket.MSG_PEEK)   # EOF (b"") or an answer: not hanging any more
            except BlockingIOError:
                alive += 1                      # nothing yet: still held open
            except OSError:
                pass                            # reset by the server
        return alive

    def finish(self, rest: bytes = b"\r\n") -> None:
        """Complete every request at once (the end of the head) and read the answers."""
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.send(rest)

    def read_answers(self, timeout: float = 30.0) -> list[bytes]:
        """Each client's first response line (b"" when the connection was closed without
        one), waiting up to `timeout` per client for the server to answer."""
        lines = []
        for sock in self.sockets:
            sock.settimeout(timeout)
            data = b""
            try:
                while b"\r\n" not in data:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            lines.append(data.split(b"\r\n", 1)[0])
        self.answers = lines
        return lines

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.sockets = []

    def __enter__(self) -> SlowClients:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


def idle_tls_socket(port: int) -> socket.socket:
    """A TCP connection to a TLS port that never starts the handshake."""
    return socket.create_connection(("127.0.0.1", port), timeout=10)

