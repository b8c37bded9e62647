"""Scraped series whose labels no database can hold are dropped and counted, never a round.

A real collector process on PostgreSQL (which refuses NUL in text and over-long keys in its
unique index) scrapes two real HTTP targets, served by a small http.server in this test: the
peer, not the thing under test. One serves, next to a good breaching series, breaching series
whose label values hold NUL, invalid UTF-8, an encoded lone surrogate, or are too long for a
dedup key; the other only a good breaching series. Both good alerts open their tickets, the
bad series are dropped and counted in `regie_evaluator_samples_dropped_total`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import pytest

from alerting.rules import parse_rules
from collector.evaluator import (
    MAX_LABEL_BYTES,
    Evaluator,
    EvaluatorTarget,
    IngestRefused,
    parse_exposition,
)
from collector.intake import ValueRefused
from tests.collector.conftest import (
    Collector,
    collector_process,
    evaluator_config,
    migrated,
    throwaway_database,
)
from tests.collector.evaluator.test_durability import sample
from tests.services import wait_for

RULES = """
rules:
  - name: LevelHigh
    metric: regie_test_level
    op: ">"
    value: 90
    for: 0s
    urgency: high
    component: disk
    summary: "{{ host }} level {{ value }} on {{ labels.mount }}"
"""
GOOD = b'# TYPE regie_test_level gauge\nregie_test_level{mount="/"} 95\n'
BAD = (b'# TYPE regie_test_level gauge\n'
       b'regie_test_level{mount="/ok"} 95\n'
       b'regie_test_level{mount="/nul\x00here"} 99\n'
       b'regie_test_level{mount="/latin1-\xff"} 99\n'
       b'regie_test_level{mount="/surrogate-\xed\xa0\x80"} 99\n'
       b'regie_test_level{mount="/' + b"x" * 3000 + b'"} 99\n')


class Target(BaseHTTPRequestHandler):
    """Serves the server's `body` on /metrics, as the text format."""

    def do_GET(self) -> None:
        if self.path != "/metrics":
            self.send_error(404)
            return
        body = self.server.body  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def target_server(body: bytes) -> Iterator[ThreadingHTTPServer]:
    """Serves `body` (its `body` attribute, changed at will) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    server.body = body  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def port(server: ThreadingHTTPServer) -> int:
    return server.server_address[1]


def config(tmp_path, bad_port: int, good_port: int) -> str:
    return evaluator_config(tmp_path, RULES, {bad_port: "bad-host", good_port: "good-host"},
                            interval=0.5, scrape_timeout=2)


def evaluator_keys(collector: Collector) -> set[str]:
    status, body = collector.call("GET", "/api/v1/tickets?status=open&include_attached=true",
                                  token="viewer")
    assert status == 200, body
    return {t["dedup_key"] for t in body["tickets"] if t["origin"] == "evaluator"}


def metric(collector: Collector, name: str, labels: dict[str, str]) -> float:
    status, text = collector.call("GET", "/metrics", token="viewer")
    assert status == 200, text
    return sample(text, name, labels)


def test_bad_labels_are_dropped_and_the_good_alerts_open_on_postgresql(tmp_path):
    expected = {"evaluator:LevelHigh:good-host:mount=/", "evaluator:LevelHigh:bad-host:mount=/ok"}
    with throwaway_database("postgresql", tmp_path) as url, target_server(BAD) as bad, \
            target_server(GOOD) as good, \
            collector_process(tmp_path, migrated(url),
                              config(tmp_path, port(bad), port(good))) as collector:
        wait_for(lambda: evaluator_keys(collector) == expected, timeout=30, interval=0.2,
                 what=f"the two good alerts' tickets {expected}")

        def dropped() -> tuple[float, float]:
            """(invalid_character, too_long) of bad-host, from one scrape: one round's."""
            status, text = collector.call("GET", "/metrics", token="viewer")
            assert status == 200, text
            return tuple(sample(text, "regie_evaluator_samples_dropped_total",
                                {"host": "bad-host", "reason": reason})
                         for reason in ("invalid_character", "too_long"))

        # Counted every round: three series with a character no database stores, one too long.
        invalid, too_long = wait_for(lambda: (d := dropped())[1] >= 2 and d, timeout=30,
                                     interval=0.2, what="two rounds of dropped samples counted")
        assert invalid == 3 * too_long
        assert metric(collector, "regie_evaluator_samples_dropped_total",
                      {"host": "good-host", "reason": "invalid_character"}) == 0
        # Rounds go on succeeding; no scrape counts as failed, and nothing else opened.
        rounds = metric(collector, "regie_evaluator_rounds_total", {})
        wait_for(lambda: metric(collector, "regie_evaluator_rounds_total", {}) >= rounds + 2,
                 timeout=30, interval=0.2, what="two more successful rounds")
        assert metric(collector, "regie_evaluator_scrape_failures_total",
                      {"host": "bad-host"}) == 0
        assert evaluator_keys(collector) == expected
    log = (tmp_path / f"collector-{collector.port}.log").read_text(errors="replace")
    warnings = [line for line in log.splitlines() if "no database can hold" in line]
    assert len(warnings) == 1 and "bad-host" in warnings[0], warnings   # once per streak
    assert "\x00" not in log and "xxxxxxxx" not in log


@pytest.mark.parametrize(("line", "reason"), [
    ('m{a="ok"} 1', None),
    ('m{a="caf\u00e9 \u2603"} 1', None),                       # any valid UTF-8 is fine
    ('m{a="x\x00y"} 1', "invalid_character"),
    ('m{a="\ud800"} 1', "invalid_character"),                   # a lone surrogate
    ('m{a="\udcff"} 1', "invalid_character"),                   # invalid UTF-8, escaped
    ('{"m.x", "l\x00b"="v"} 1', "invalid_character"),           # in a quoted label name
    ('{"m\x00x"} 1', "invalid_character"),                      # in a quoted metric name
    ('m{a="%s"} 1' % ("v" * (MAX_LABEL_BYTES - 2)), None),     # a=v... just fits
    ('m{a="%s"} 1' % ("v" * (MAX_LABEL_BYTES - 1)), "too_long"),
    ('m{a="%s"} 1' % ("\u00e9" * (MAX_LABEL_BYTES // 2)), "too_long"),  # bytes, not chars
])
def test_parse_exposition_drops_what_the_store_cannot_hold(line, reason):
    dropped: Counter[str] = Counter()
    samples = parse_exposition(f'm{{a="good"}} 2\n{line}\n', dropped=dropped)
    kept = [s for s in samples if s.labels.get("a") != "good"]
    assert len(samples) - len(kept) == 1              # the good series is always kept
    assert (len(kept), dict(dropped)) == ((1, {}) if reason is None else (0, {reason: 1}))



def test_a_host_whose_signals_are_refused_holds_back_no_other_host():
    """The store stand-in refuses one host's signals every time, as the intake answers a
    request holding a value the database refused (ValueRefused). The other host's alert, which
    starts breaching meanwhile, still runs its `for`, fires and is stored once; the refused
    host's signal is produced again every round."""
    stored: list[tuple[str, str]] = []
    attempts: Counter[str] = Counter()

    async def ingest(signals) -> None:
        (host,) = {s.host for s in signals}
        attempts[host] += 1
        if host == "bad-host":
            raise ValueRefused("body: a value the database cannot store")
        stored.extend((s.host, s.action.value) for s in signals)

    now = [datetime(2024, 5, 1, tzinfo=UTC)]
    rules = parse_rules({"rules": [{"name": "LevelHigh", "metric": "regie_test_level",
                                    "op": ">", "value": 90, "for": "60s", "urgency": "high",
                                    "component": "disk", "summary": "x"}]}, source="test")

    async def scenario(bad: ThreadingHTTPServer, good: ThreadingHTTPServer) -> None:
        async with aiohttp.ClientSession() as session:
            evaluator = Evaluator([EvaluatorTarget(f"127.0.0.1:{port(bad)}", "bad-host"),
                                   EvaluatorTarget(f"127.0.0.1:{port(good)}", "good-host")],
                                  rules, interval_seconds=30, ingest=ingest, session=session,
                                  clock=lambda: now[0])
            assert await evaluator.evaluate_once() == []          # bad-host pending
            now[0] += timedelta(seconds=60)
            with pytest.raises(ValueRefused):                     # nothing stored: as it came
                await evaluator.evaluate_once()
            good.body = GOOD                                      # type: ignore[attr-defined]
            for _ in range(2):                                    # good-host's `for` runs
                now[0] += timedelta(seconds=30)
                with pytest.raises(ValueRefused):
                    await evaluator.evaluate_once()
            # good-host's alert fires and is stored; the round says which host was refused.
            now[0] += timedelta(seconds=30)
            with pytest.raises(IngestRefused, match=r"1 host\(s\) not stored, bad-host's: body"):
                await evaluator.evaluate_once()
            assert [key[1] for key in evaluator.state.firing] == ["good-host"]
            assert [key[1] for key in evaluator.state.pending] == ["bad-host"]

    with target_server(BAD) as bad, target_server(GOOD.replace(b"} 95", b"} 50")) as good:
        asyncio.run(scenario(bad, good))
    assert stored == [("good-host", "trigger")]
    assert attempts == {"bad-host": 4, "good-host": 1}
