"""The embedded evaluator against a real `regie agent run` process; time from an injected clock."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from alerting.rules import Rule, go_float, parse_rules
from alerting.ticket import Action, Signal, Urgency
from collector.evaluator import Evaluator, EvaluatorTarget, parse_exposition
from collector.rules_file import load_rules
from tests.agent.conftest import agent_process
from tests.conftest import Service
from tests.services import free_port

pytestmark = pytest.mark.services

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def agent(tmp_path_factory) -> Iterator[Service]:
    with agent_process(tmp_path_factory.mktemp("agent")) as service:
        yield service


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def rules(*items: dict[str, Any]) -> tuple[Rule, ...]:
    base = {"urgency": "medium", "component": "test", "summary": "{{ host }}: {{ value }}"}
    return parse_rules({"rules": [base | item for item in items]}, source="test")


class Ingest:
    """The store stand-in: a plain async function that keeps what it was given."""

    def __init__(self, fail: int = 0) -> None:
        self.calls: list[list[Signal]] = []
        self.fail = fail

    async def __call__(self, signals: list[Signal]) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("store unavailable")
        self.calls.append(list(signals))


@contextlib.asynccontextmanager
async def evaluator(targets, rule_set, *, clock=None, ingest=None, timeout=5.0):
    async with aiohttp.ClientSession() as session:
        yield Evaluator(targets, rule_set, interval_seconds=60, ingest=ingest or Ingest(),
                        session=session, scrape_timeout_seconds=timeout,
                        clock=clock or Clock())


def target(service: Service, host: str = "web1") -> EvaluatorTarget:
    return EvaluatorTarget(address=f"127.0.0.1:{service.port}", host=host)


def closed_target(host: str = "web1") -> EvaluatorTarget:
    return EvaluatorTarget(address=f"127.0.0.1:{free_port()}", host=host)


def test_a_breached_rule_triggers_once_with_the_host(agent):
    async def scenario():
        ingest = Ingest()
        rule_set = rules(
            {"name": "MemoryPresent", "metric": "regie_memory_total_bytes", "op": ">",
             "value": 0},
            {"name": "NeverTrue", "metric": "regie_memory_total_bytes", "op": "<", "value": 0},
        )
        async with evaluator([target(agent)], rule_set, ingest=ingest) as ev:
            first = await ev.evaluate_once()
            second = await ev.evaluate_once()
        return ingest, first, second, ev

    ingest, first, second, ev = asyncio.run(scenario())
    (signal,) = first
    assert (signal.action, signal.host, signal.dedup_key, signal.origin) == (
        Action.TRIGGER, "web1", "evaluator:MemoryPresent:web1", "evaluator")
    assert signal.details["value"] > 0
    assert signal.summary == f"web1: {go_float(signal.details['value'])}"
    assert ingest.calls == [[signal]]          # the second round had nothing to say
    assert second == []
    assert ev.stats.rounds_total == 2 and ev.stats.up == {"web1": True}


def test_a_label_rule_carries_the_mountpoint_in_its_dedup_key(agent):
    async def scenario():
        rule_set = rules({"name": "RootSize", "metric": "regie_filesystem_size_bytes",
                          "labels": {"mountpoint": "/"}, "op": ">", "value": 0,
                          "summary": "{{ labels.mountpoint }} on {{ host }}"})
        async with evaluator([target(agent)], rule_set) as ev:
            return await ev.evaluate_once()

    (signal,) = asyncio.run(scenario())
    assert signal.dedup_key.startswith("evaluator:RootSize:web1:")
    assert "mountpoint=/" in signal.dedup_key.split(":", 3)[3].split(",")
    assert signal.details["labels"]["mountpoint"] == "/"
    assert signal.summary == "/ on web1"


def test_an_unreachable_agent_raises_agent_down_after_its_grace_period():
    async def scenario():
        clock = Clock()
        async with evaluator([closed_target()], load_rules(None), clock=clock) as ev:
            rounds = [await ev.evaluate_once()]
            clock.advance(119)
            rounds.append(await ev.evaluate_once())
            clock.advance(1)
            rounds.append(await ev.evaluate_once())
            clock.advance(60)
            rounds.append(await ev.evaluate_once())
        return rounds, ev

    rounds, ev = asyncio.run(scenario())
    assert rounds[0] == rounds[1] == rounds[3] == []
    (down,) = rounds[2]
    assert (down.action, down.dedup_key, down.host, down.host_down, down.urgency,
            down.component, down.occurred_at) == (
        Action.TRIGGER, "evaluator:RegieAgentDown:web1", "web1", True, Urgency.HIGH, "host",
        T0 + timedelta(seconds=120))
    assert ev.stats.up == {"web1": False}
    assert ev.stats.scrape_failures_total == {"web1": 4}


def test_down_keeps_alerts_and_coming_back_resolves_only_the_host_down_alert(agent):
    async def scenario():
        clock = Clock()
        rule_set = rules({"name": "MemoryPresent", "metric": "regie_memory_total_bytes",
                          "op": ">", "value": 0}) + tuple(
            r for r in load_rules(None) if r.host_down)
        async with evaluator([target(agent)], rule_set, clock=clock) as ev:
            up = await ev.evaluate_once()
            ev.set_targets([closed_target()])                  # the same host stops answering
            clock.advance(30)
            down = [await ev.evaluate_once()]
            clock.advance(120)
            down.append(await ev.evaluate_once())
            ev.set_targets([target(agent)])                     # and answers again
            clock.advance(30)
            back = await ev.evaluate_once()
        return up, down, back

    up, down, back = asyncio.run(scenario())
    assert [(s.action, s.details["rule"]) for s in up] == [(Action.TRIGGER, "MemoryPresent")]
    assert down[0] == []                                        # no false resolve
    assert [(s.action, s.details["rule"]) for s in down[1]] == [
        (Action.TRIGGER, "RegieAgentDown")]
    assert [(s.action, s.details["rule"]) for s in back] == [(Action.RESOLVE, "RegieAgentDown")]


def test_an_agent_that_never_answers_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()                      # connections complete, requests are never read
        address = f"127.0.0.1:{silent.getsockname()[1]}"

        async def scenario():
            rule_set = tuple(r for r in load_rules(None) if r.host_down)
            async with evaluator([EvaluatorTarget(address, "slow")], rule_set,
                                 timeout=0.3) as ev:
                loop = asyncio.get_running_loop()
                started = loop.time()
                await ev.evaluate_once()
                return ev, loop.time() - started

        ev, took = asyncio.run(scenario())
    assert ev.stats.up == {"slow": False}
    assert took < 3


def test_a_non_metrics_answer_counts_as_down(agent):
    async def scenario():
        wrong = EvaluatorTarget(f"http://127.0.0.1:{agent.port}/no-such-page", "web1")
        async with evaluator([wrong], load_rules(None)) as ev:
            await ev.evaluate_once()
            return ev

    assert asyncio.run(scenario()).stats.up == {"web1": False}


def test_a_failed_ingest_loses_nothing(agent):
    async def scenario():
        ingest = Ingest(fail=1)
        rule_set = rules({"name": "MemoryPresent", "metric": "regie_memory_total_bytes",
                          "op": ">", "value": 0})
        async with evaluator([target(agent)], rule_set, ingest=ingest) as ev:
            with pytest.raises(RuntimeError, match="store unavailable"):
                await ev.evaluate_once()
            again = await ev.evaluate_once()
        return ingest, again

    ingest, again = asyncio.run(scenario())
    assert [s.action for s in again] == [Action.TRIGGER]
    assert ingest.calls == [again]


def test_run_survives_failures_and_stops_when_cancelled(agent):
    async def scenario():
        ingest = Ingest(fail=2)
        rule_set = rules({"name": "MemoryPresent", "metric": "regie_memory_total_bytes",
                          "op": ">", "value": 0})
        async with aiohttp.ClientSession() as session:
            ev = Evaluator([target(agent)], rule_set, interval_seconds=0.05, ingest=ingest,
                           session=session, clock=Clock())
            task = asyncio.create_task(ev.run())
            async with asyncio.timeout(20):
                while not ingest.calls:
                    await asyncio.sleep(0.02)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return ev, ingest

    ev, ingest = asyncio.run(scenario())
    assert ev.stats.round_failures_total == 2
    assert [[s.action for s in call] for call in ingest.calls] == [[Action.TRIGGER]]


def test_target_urls():
    assert EvaluatorTarget("web1:9847", "web1").url == "http://web1:9847/metrics"
    assert EvaluatorTarget("web1:9847", "web1", scheme="https").url == (
        "https://web1:9847/metrics")
    assert EvaluatorTarget("https://web1:9847", "web1").url == "https://web1:9847/metrics"
    assert EvaluatorTarget("http://web1:9847/m", "web1").url == "http://web1:9847/m"


def test_one_target_per_host():
    async def scenario():
        async with aiohttp.ClientSession() as session:
            Evaluator([EvaluatorTarget("a:1", "web1"), EvaluatorTarget("b:1", "web1")], (),
                      interval_seconds=1, ingest=Ingest(), session=session)

    with pytest.raises(ValueError, match="more than one target for host"):
        asyncio.run(scenario())


def test_parse_exposition_reads_the_agents_text(agent):
    from tests.services import http_get

    samples = parse_exposition(http_get(f"{agent.url}/metrics").decode())
    names = {s.name for s in samples}
    assert {"regie_memory_total_bytes", "regie_cpu_seconds_total",
            "regie_agent_collector_success"} <= names
    with pytest.raises(ValueError):
        parse_exposition("not { a metric")
