"""The embedded evaluator across restarts and across collectors, all real processes.

The target is a real node_exporter that the test stops and starts again on the same port: its
`up` is the condition (a host-down rule, `for: 0s`), and its own request counter
(`promhttp_metric_handler_requests_total`) counts who scrapes it.

1. A condition that ended while the collector was down (killed with SIGKILL) still resolves its
   ticket after the restart: the evaluator resumes from its active tickets.
2. Two collectors on one PostgreSQL database: only the one holding the evaluator lock scrapes;
   when it is killed with SIGKILL the other takes over, resolves the ticket the first opened,
   and opens new ones.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.collector.conftest import (
    Collector,
    collector_process,
    create_tokens,
    evaluator_config,
    migrated,
    throwaway_database,
)
from tests.services import free_port, http_get, http_ok, require_binary, running, wait_for

HOST = "node-1"
KEY = f"evaluator:TargetDown:{HOST}"
RULES = """
rules:
  - name: TargetDown
    metric: up
    op: "=="
    value: 0
    for: 0s
    urgency: high
    component: host
    host_down: true
    summary: "{{ host }} does not answer"
"""


class NodeExporter:
    """A real node_exporter on one port, stopped and started again by the test."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        self._tmp = tmp_path
        self._stack: contextlib.ExitStack | None = None
        self._starts = 0

    def start(self) -> None:
        self._starts += 1
        argv = [require_binary("prometheus-node-exporter"),
                f"--web.listen-address=127.0.0.1:{self.port}", "--no-collector.systemd"]
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(running(argv, log=self._tmp / f"node-{self._starts}.log",
                                          ready=lambda: http_ok(self.url)))

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def scrapes(self) -> float:
        """Successful /metrics requests it served so far (this read not yet counted)."""
        return sample(http_get(self.url).decode(), "promhttp_metric_handler_requests_total",
                      {"code": "200"})


@contextlib.contextmanager
def node_exporter(tmp_path: Path) -> Iterator[NodeExporter]:
    node = NodeExporter(tmp_path)
    node.start()
    try:
        yield node
    finally:
        node.stop()


def sample(text: str, name: str, labels: dict[str, str] | None = None) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in (labels or {}).items()):
                return s.value
    raise AssertionError(f"no {name}{labels or ''} in the exposition")


def collector_metric(collector: Collector, name: str) -> float:
    status, text = collector.call("GET", "/metrics", token="viewer")
    assert status == 200, text
    return sample(text, name)


def config(tmp_path: Path, port: int) -> str:
    return evaluator_config(tmp_path, RULES, {port: HOST}, interval=0.5, scrape_timeout=1)


def tickets(collector: Collector, status: str) -> list[dict]:
    code, body = collector.call("GET", f"/api/v1/tickets?status={status}&include_attached=true",
                                token="viewer")
    assert code == 200, body
    return [t for t in body["tickets"] if t["dedup_key"] == KEY]


def kill_9(collector: Collector) -> None:
    collector.process.send_signal(signal.SIGKILL)
    collector.process.wait(timeout=30)


def test_a_condition_that_ended_while_the_collector_was_down_resolves(tmp_path, sqlite_db):
    with node_exporter(tmp_path) as node:
        settings = config(tmp_path, node.port)
        with collector_process(tmp_path, sqlite_db, settings) as collector:
            tokens = collector.tokens
            node.stop()
            (opened,) = wait_for(lambda: tickets(collector, "open"), timeout=30, interval=0.2,
                                 what="the host-down ticket")
            kill_9(collector)
        node.start()   # the condition ends while no collector evaluates
        with collector_process(tmp_path, sqlite_db, settings, tokens=tokens) as restarted:
            (resolved,) = wait_for(lambda: tickets(restarted, "resolved"), timeout=30,
                                   interval=0.2, what="the ticket resolved after the restart")
            assert resolved["id"] == opened["id"]
            assert tickets(restarted, "open") == []
            # The evaluator's own metrics are there, and clean for promtool.
            status, text = restarted.call("GET", "/metrics", token="viewer")
            assert status == 200 and sample(text, "regie_evaluator_leader") == 1.0
            assert sample(text, "regie_evaluator_scrape_failures_total", {"host": HOST}) == 0
            lint = subprocess.run([require_binary("promtool"), "check", "metrics"],
                                  input=text.encode(), capture_output=True, timeout=60,
                                  check=False)
            assert (lint.returncode, lint.stdout + lint.stderr) == (0, b"")


def test_two_collectors_one_evaluator_handed_over_when_its_holder_dies(tmp_path):
    with throwaway_database("postgresql", tmp_path) as url, node_exporter(tmp_path) as node:
        db = migrated(url)
        tokens = create_tokens(db)
        settings = config(tmp_path, node.port)
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
        with collector_process(tmp_path / "a", db, settings, tokens=tokens) as a, \
                collector_process(tmp_path / "b", db, settings, tokens=tokens) as b:
            def leaders() -> tuple[Collector, Collector] | None:
                flags = [collector_metric(c, "regie_evaluator_leader") for c in (a, b)]
                if sorted(flags) != [0.0, 1.0]:
                    return None
                return (a, b) if flags[0] == 1.0 else (b, a)

            leader, follower = wait_for(leaders, timeout=30, interval=0.2,
                                        what="exactly one leading collector")
            # Only the leader scrapes: the target serves about one scrape per leader round.
            rounds0 = collector_metric(leader, "regie_evaluator_rounds_total")
            idle0 = collector_metric(follower, "regie_evaluator_rounds_total")
            scrapes0 = node.scrapes()
            wait_for(lambda: collector_metric(leader, "regie_evaluator_rounds_total")
                     >= rounds0 + 8, timeout=30, interval=0.2, what="eight leader rounds")
            scrapes1 = node.scrapes()
            rounds1 = collector_metric(leader, "regie_evaluator_rounds_total")
            assert collector_metric(follower, "regie_evaluator_rounds_total") == idle0 == 0
            # Read in this order (rounds before scrapes at the start, scrapes before rounds at
            # the end), a round can only add to `served` beyond the rounds counted when its
            # scrape falls inside the window and it ends after it: one at most, whatever the
            # timing. Both collectors scraping would serve about twice the rounds.
            served = scrapes1 - scrapes0 - 1          # less the test's own first read
            assert 0 < served <= rounds1 - rounds0 + 1, (served, rounds1 - rounds0)

            node.stop()
            (opened,) = wait_for(lambda: tickets(follower, "open"), timeout=30, interval=0.2,
                                 what="the leader's host-down ticket")
            kill_9(leader)
            wait_for(lambda: collector_metric(follower, "regie_evaluator_leader") == 1.0,
                     timeout=30, interval=0.2, what="the follower to take over")
            node.start()
            (resolved,) = wait_for(lambda: tickets(follower, "resolved"), timeout=30,
                                   interval=0.2, what="the new leader to resolve the ticket")
            assert resolved["id"] == opened["id"]
            node.stop()
            (reopened,) = wait_for(lambda: tickets(follower, "open"), timeout=30, interval=0.2,
                                   what="the new leader to open a ticket")
            assert reopened["id"] != opened["id"]
