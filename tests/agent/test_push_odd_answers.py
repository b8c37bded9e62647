"""The agent's push against a collector (or something in its place) answering oddly: the
real `regie agent run` process and a real HTTP server on a loopback port.

An answer is the collector's fault, never the agent's: whatever it holds, the push records it
as that answer (spooled for a retry, backed off, or rejected), and no cycle fails with a
traceback.
"""

from __future__ import annotations

import pytest

from tests.agent.conftest import agent_process
from tests.agent.push_receiver import Answer, Receiver
from tests.services import free_port, http_get, wait_for


def _metric(url: str, name: str) -> float | None:
    for line in http_get(f"{url}/metrics").decode().splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[-1])
    return None


@pytest.mark.timeout(300)   # the first inventory takes 10-30 s on a busy machine
def test_a_503_with_a_retry_after_the_agent_cannot_read_is_spooled(tmp_path):
    """503 with `Retry-After: ²` (U+00B2: str.isdigit() took it, float() refused it): the
    record was neither spooled nor backed off, and every cycle logged 'inventory push cycle
    failed' with a traceback. Now it is a 503 like any other: spooled, retried later."""
    with Receiver() as receiver:
        receiver.answer(Answer(503, "busy", headers=(("Retry-After", "\u00b2"),)))
        config = f"""
[push]
collector = "{receiver.url}"
spool_dir = "{tmp_path / 'spool'}"
retry_interval_seconds = 3600
"""
        with agent_process(tmp_path, config) as agent:
            wait_for(lambda: receiver.requests, timeout=120, interval=0.2,
                     what="the first inventory push")
            spooled = wait_for(
                lambda: _metric(agent.url, "regie_agent_spool_records") == 1.0,
                timeout=30, interval=0.2, what="the refused record to be spooled")
            assert spooled
        log = (tmp_path / "agent.log").read_text()
    assert "Traceback" not in log and "push cycle failed" not in log, log
    assert "status 503" in log, log


class _Trickler:
    """Reads a request, then sends an answer's head a byte at a time, each within any
    per-read timeout, for as long as the test runs (a collector or proxy stuck writing)."""

    def __init__(self) -> None:
        import socket
        import threading

        self.port = free_port()
        self.requests = 0
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", self.port), backlog=50)
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        import threading

        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection) -> None:
        with connection:
            try:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                self.requests += 1
                connection.sendall(b"HTTP/1.1 200 OK\r\nX-Pad: ")
                while not self._stop.wait(0.5):    # 0.5 s apart: under the 2 s timeout
                    connection.sendall(b"a")
            except OSError:
                return   # the agent gave up on it: what the test waits for

    def __enter__(self) -> _Trickler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.close()


@pytest.mark.timeout(300)
def test_a_collector_answering_a_byte_at_a_time_is_no_answer(tmp_path):
    """push.timeout_seconds bounds a push as a whole. It bounded each read only, so an answer
    trickling a byte every half second held the push thread for as long as it went on (the
    record neither delivered nor spooled, nothing logged). Now the push gives up after the
    timeout, spools the record and says so."""
    with _Trickler() as collector:
        config = f"""
[push]
collector = "{collector.url}"
spool_dir = "{tmp_path / 'spool'}"
timeout_seconds = 2
retry_interval_seconds = 3600
"""
        with agent_process(tmp_path, config) as agent:
            wait_for(lambda: collector.requests, timeout=120, interval=0.2,
                     what="the first inventory push")
            wait_for(lambda: _metric(agent.url, "regie_agent_spool_records") == 1.0,
                     timeout=60, interval=0.2, what="the record to be spooled")
        log = (tmp_path / "agent.log").read_text()
    assert "no complete answer within 2s" in log, log
    assert "Traceback" not in log, log
