"""A scrape body over `[evaluator] body_size_limit_bytes` fails that target's scrape only.

A real collector process (SQLite) scrapes four real HTTP targets, served by a small http.server
in this test (the peer, not the thing under test), with the limit set to 64 KiB. Each serves a
breaching series: `fits` in a body of exactly the limit; `declared` one byte over, with its
Content-Length; `gzip` over the limit once decompressed but a few KB on the wire (the limit
counts the body, as Prometheus's body_size_limit does); `streamed` over the limit with no
Content-Length at all (the read stops at the limit). Only `fits` opens a ticket; the others
count scrape failures in `regie_evaluator_scrape_failures_total{host}`, each logged once
however many rounds fail.
"""

from __future__ import annotations

import contextlib
import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.collector.conftest import collector_process
from tests.collector.evaluator.test_unstorable_labels import RULES, evaluator_keys, metric
from tests.services import wait_for

LIMIT = 64 * 1024
SERIES = b'# TYPE regie_test_level gauge\nregie_test_level{mount="/"} 95\n'


def exposition(size: int) -> bytes:
    """A valid exposition of exactly `size` bytes: the series, then one comment line."""
    body = SERIES + b"# " + b"p" * (size - len(SERIES) - 3) + b"\n"
    assert len(body) == size
    return body


class Served(BaseHTTPRequestHandler):
    """Serves the server's `body` as its `mode` says: plain, gzip or with no length."""

    def do_GET(self) -> None:
        body, mode = self.server.body, self.server.mode  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        if mode == "gzip":
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        if mode != "streamed":   # HTTP/1.0 without a length: the body ends when we close
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The collector may stop reading at its limit, as it should.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def served(body: bytes, mode: str) -> Iterator[int]:
    """Serves `body` as `mode` says until the block ends; yields the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Served)
    server.body, server.mode = body, mode  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


TARGETS = {
    "fits": (exposition(LIMIT), "plain"),
    "declared": (exposition(LIMIT + 1), "plain"),
    "gzip": (exposition(4 * LIMIT), "gzip"),
    "streamed": (exposition(4 * LIMIT), "streamed"),
}


def test_an_oversized_body_fails_its_scrape_and_no_other(tmp_path, sqlite_db):
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    with contextlib.ExitStack() as stack:
        ports = {host: stack.enter_context(served(body, mode))
                 for host, (body, mode) in TARGETS.items()}
        assert len(gzip.compress(TARGETS["gzip"][0])) < LIMIT   # small on the wire
        targets = "".join(f'[[evaluator.targets]]\naddress = "127.0.0.1:{port}"\n'
                          f'host = "{host}"\n' for host, port in ports.items())
        config = (f"[evaluator]\ninterval_seconds = 0.5\nscrape_timeout_seconds = 5\n"
                  f"body_size_limit_bytes = {LIMIT}\nrules_file = \"{rules}\"\n{targets}")
        collector = stack.enter_context(collector_process(tmp_path, sqlite_db, config))
        expected = {"evaluator:LevelHigh:fits:mount=/"}
        wait_for(lambda: evaluator_keys(collector) == expected, timeout=30, interval=0.2,
                 what=f"the fitting target's ticket {expected}")

        def failures() -> dict[str, float]:
            return {host: metric(collector, "regie_evaluator_scrape_failures_total",
                                 {"host": host}) for host in TARGETS}

        counted = wait_for(lambda: (f := failures()) and all(
            f[h] >= 3 for h in ("declared", "gzip", "streamed")) and f, timeout=30,
            interval=0.2, what="three failed scrapes of each oversized target")
        assert counted["fits"] == 0
        assert evaluator_keys(collector) == expected
    log = (tmp_path / f"collector-{collector.port}.log").read_text(errors="replace")
    for host in ("declared", "gzip", "streamed"):
        lines = [line for line in log.splitlines() if f"scrape of {host} " in line]
        assert len(lines) == 1, lines                       # once per streak, not per round
        assert f"body larger than {LIMIT} bytes ([evaluator] body_size_limit_bytes)" \
            in lines[0], lines
    assert "fits" not in " ".join(line for line in log.splitlines() if "failed" in line)

