"""Several group transactions at once in the intake (`[database] intake_writers`, PostgreSQL).

Real PostgreSQL (a throw-away database migrated by the real migrations), the real Intake and
TicketStore. The store's apply_signals is wrapped to record when each transaction is entered
and left, and to hold a chosen transaction back until the test lets it go: that hold is how
the tests make groups overlap without depending on timing (a hold that is never released
fails the test after a minute instead of hanging). Event-loop rounds (`sleep(0)`), not
seconds, give a wrongly started transaction the chance to start.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from aiohttp import web

from alerting.priority import DEFAULT_MATRIX
from alerting.ticket import Action, Signal, Status
from collector.config import CriticalitySettings, load_settings
from collector.intake import Intake, ValueRefused
from collector.metrics import CollectorMetrics
from collector.store.engine import create_engine, database_url
from collector.store.tickets import TicketFilter, TicketStore
from regie.configfile import ConfigError
from tests.collector.conftest import migrated, throwaway_database
from tests.collector.test_intake import NOW, batch
from tests.collector.test_intake_isolation import spoiled

GUARD_S = 60  # only against a hang: a hold the intake never lets go of


class Held(TicketStore):
    """The real store; each transaction is logged, and those whose keys the test named wait
    for the test's go-ahead before they start."""

    def __init__(self, engine) -> None:
        super().__init__(engine)
        self.log: list[tuple[str, frozenset[str]]] = []
        self.running = 0
        self.most_running = 0
        self.holds: dict[str, asyncio.Event] = {}   # a key -> released when set
        self.entered = asyncio.Condition()

    async def apply_signals(self, signals, **kwargs):
        keys = frozenset(s.dedup_key for s in signals)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        self.log.append(("enter", keys))
        async with self.entered:
            self.entered.notify_all()
        try:
            for key in keys & self.holds.keys():
                await asyncio.wait_for(self.holds[key].wait(), GUARD_S)
            return await super().apply_signals(signals, **kwargs)
        finally:
            self.running -= 1
            self.log.append(("leave", keys))

    async def until_entered(self, key: str) -> None:
        """Until a transaction holding `key` has started."""
        await self.until(lambda: any(kind == "enter" and key in keys
                                     for kind, keys in self.log))

    async def until(self, predicate) -> None:
        async with asyncio.timeout(GUARD_S), self.entered:
            await self.entered.wait_for(predicate)


async def rounds(n: int = 20) -> None:
    """Let every ready task run, n times over."""
    for _ in range(n):
        await asyncio.sleep(0)


def everything(limit: int = 1000) -> TicketFilter:
    return TicketFilter(status=tuple(Status), include_attached=True, limit=limit)


async def with_writers(url: str, writers: int, work):
    engine = create_engine(database_url(url))
    try:
        store = Held(engine)
        intake = Intake(store, criticality=CriticalitySettings(), matrix=DEFAULT_MATRIX,
                        metrics=CollectorMetrics(), clock=lambda: NOW, writers=writers)
        return await work(intake, store)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory):
    with throwaway_database("postgresql", tmp_path_factory.mktemp("writers")) as url:
        yield migrated(url)


def resolve(signal: Signal) -> Signal:
    return dataclasses.replace(signal, action=Action.RESOLVE)


def test_overlapping_groups_commit_everything(pg_url):
    """Three groups run at once (the first is held until the third has started), more
    requests queue behind them; every alert of every request is committed, each request
    gets its own outcomes."""
    requests = [batch(f"overlap{n}", 25) for n in range(12)]

    async def work(intake, store):
        store.holds["overlap0-0"] = first = asyncio.Event()
        tasks = [asyncio.create_task(intake.signals(requests[0]))]
        await store.until_entered("overlap0-0")
        for n in (1, 2):
            tasks.append(asyncio.create_task(intake.signals(requests[n])))
            await store.until_entered(f"overlap{n}-0")
        tasks += [asyncio.create_task(intake.signals(r)) for r in requests[3:]]
        await rounds()
        first.set()
        results = await asyncio.gather(*tasks)
        listed = await store.list(everything())
        return results, listed, store.most_running

    results, listed, most_running = asyncio.run(with_writers(pg_url, 3, work))
    assert most_running == 3
    for request, outcomes in zip(requests, results, strict=True):
        assert [o.dedup_key for o in outcomes] == [s.dedup_key for s in request]
        assert all(o.result == "created" for o in outcomes)
    stored = {t.dedup_key for t in listed if t.dedup_key.startswith("overlap")}
    assert stored == {s.dedup_key for r in requests for s in r}


def test_a_resolve_never_overtakes_its_trigger(pg_url):
    """Round after round: request A opens key k (held before its transaction starts), C
    (other keys) starts beside it, then B resolves k. B may only start after A commits, so
    k ends resolved; had B started beside A it would have found no ticket (ignored) and A
    would then have opened k for good."""
    async def work(intake, store):
        states = []
        for n in range(20):
            a, c = batch(f"order{n}a", 5), batch(f"order{n}c", 5)
            b = [resolve(a[0])]
            store.holds[a[0].dedup_key] = hold = asyncio.Event()
            ta = asyncio.create_task(intake.signals(a))
            await store.until_entered(a[0].dedup_key)
            tc = asyncio.create_task(intake.signals(c))
            await store.until_entered(c[0].dedup_key)   # two groups in flight
            tb = asyncio.create_task(intake.signals(b))
            await rounds()
            hold.set()
            outcomes_a, outcomes_b, _ = await asyncio.gather(ta, tb, tc)
            states.append((outcomes_a[0].result, outcomes_b[0].result))
            enter_b = store.log.index(("enter", frozenset({a[0].dedup_key})))
            leave_a = store.log.index(("leave", frozenset(s.dedup_key for s in a)))
            assert leave_a < enter_b, store.log[-8:]
        listed = await store.list(everything())
        return states, listed, store.most_running

    states, listed, most_running = asyncio.run(with_writers(pg_url, 4, work))
    assert most_running >= 2
    assert states == [("created", "resolved")] * 20
    status = {t.dedup_key: t.status for t in listed}
    assert {status[f"order{n}a-0"] for n in range(20)} == {Status.RESOLVED}


def test_one_bad_request_in_a_concurrent_group_fails_alone(pg_url):
    """While one group is held, ten requests form a second group beside it; one of them holds
    a value PostgreSQL refuses. That group is applied again request by request: only the bad
    request fails, and the held group commits too."""
    held = batch("iso-held", 3)
    requests = [batch(f"iso{n}", 2) for n in range(10)]
    requests[4] = [spoiled(requests[4][0], "surrogate in summary"), requests[4][1]]

    async def work(intake, store):
        store.holds["iso-held-0"] = hold = asyncio.Event()
        th = asyncio.create_task(intake.signals(held))
        await store.until_entered("iso-held-0")
        tasks = [asyncio.create_task(intake.signals(r)) for r in requests]
        await store.until_entered("iso0-0")
        # The group of ten failed and each request was applied alone, beside the held group.
        await store.until(lambda: ("enter", frozenset({"iso9-0", "iso9-1"})) in store.log)
        hold.set()
        results = await asyncio.gather(th, *tasks, return_exceptions=True)
        listed = await store.list(everything())
        return results, listed, store.log

    results, listed, log = asyncio.run(with_writers(pg_url, 2, work))
    assert [o.result for o in results[0]] == ["created"] * 3
    rest = results[1:]
    assert isinstance(rest[4], ValueRefused)
    assert all(isinstance(r, list) and [o.result for o in r] == ["created"] * 2
               for n, r in enumerate(rest) if n != 4), rest
    group = frozenset(s.dedup_key for r in requests for s in r)
    assert ("enter", group) in log  # the ten were grouped first
    stored = {t.dedup_key for t in listed if t.dedup_key.startswith("iso")}
    assert stored == {s.dedup_key for n, r in enumerate(requests) if n != 4 for s in r} | {
        s.dedup_key for s in held}


@pytest.mark.parametrize("kind,expected", [("sqlite", 1), ("postgresql", 4)])
def test_sqlite_runs_one_writer_whatever_the_setting(kind, expected, tmp_path):
    """The collector's own start-up (make_app with the real stores) with `intake_writers = 4`
    in its file: PostgreSQL gets four writers, SQLite one. On SQLite the intake then never
    runs a second transaction while one is held."""
    from collector.app import INTAKE, make_app
    from collector.service import stores_context

    conf = tmp_path / "collector.toml"
    conf.write_text("[database]\nintake_writers = 4\n")

    async def main(url: str) -> tuple[int, int]:
        settings = load_settings(conf, db=url)
        app = make_app(settings, stores_ctx=stores_context(settings, clock=lambda: NOW))
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            intake = app[INTAKE]
            store = Held(intake.tickets._engine)
            intake.tickets = store
            store.holds["one0-0"] = hold = asyncio.Event()
            first = asyncio.create_task(intake.signals(batch("one0", 2)))
            await store.until_entered("one0-0")
            others = [asyncio.create_task(intake.signals(batch(f"one{n}", 2)))
                      for n in range(1, 4)]
            await rounds()
            running = store.most_running
            hold.set()
            await asyncio.gather(first, *others)
            return intake.writers, running
        finally:
            await runner.cleanup()

    with throwaway_database(kind, tmp_path) as url:
        writers, running = asyncio.run(main(migrated(url)))
    assert writers == expected
    assert running == min(expected, 2)  # the held one, and (PostgreSQL) the next group


@pytest.mark.parametrize("value", [0, 9, "2", 2.5])
def test_intake_writers_is_checked(tmp_path: Path, value):
    conf = tmp_path / "collector.toml"
    conf.write_text(f"[database]\nintake_writers = {value!r}\n".replace("'", '"'))
    with pytest.raises(ConfigError, match="intake_writers"):
        load_settings(conf)


def _alert(key: str, host: str, *, host_down: bool = False, name: str | None = None,
           labels: dict[str, str] | None = None) -> list[Signal]:
    details = {"labels": {"alertname": name, **(labels or {})}} if name else {}
    return [Signal(dedup_key=key, action=Action.TRIGGER, origin="alertmanager",
                   summary=key, occurred_at=NOW, host=host, host_down=host_down,
                   details=details)]


@pytest.mark.parametrize("inhibitor,alert", [
    (_alert("hd-down", "h-down", host_down=True), _alert("hd-cpu", "h-down", name="CpuHigh")),
    (_alert("fs-full", "h-fs", name="FilesystemAlmostFull",
            labels={"mountpoint": "/var", "device": "sda1"}),
     _alert("fs-filling", "h-fs", name="FilesystemFilling",
            labels={"mountpoint": "/var", "device": "sda1"})),
], ids=["host-down", "inhibit-rule"])
def test_an_alert_waits_for_the_inhibitor_of_its_host(pg_url, inhibitor, alert):
    """A group opening an inhibitor of a host (a host-down alert, or the source of an inhibit
    rule of the bundled rules file) is held; a request of another host starts beside it, but
    an alert of the same host it would inhibit waits for its commit, then finds it and
    attaches to it (no second page). Started beside it, it found nothing and paged."""
    from collector.rules_file import load_rule_set

    other = _alert(f"{inhibitor[0].dedup_key}-other", "h-elsewhere", name="CpuHigh")

    async def work(intake, store):
        store.inhibit_rules = load_rule_set(None).inhibit_rules
        key = inhibitor[0].dedup_key
        store.holds[key] = hold = asyncio.Event()
        first = asyncio.create_task(intake.signals(inhibitor))
        await store.until_entered(key)
        beside = asyncio.create_task(intake.signals(other))
        await store.until_entered(other[0].dedup_key)      # another host: beside it
        held_back = asyncio.create_task(intake.signals(alert))
        await rounds()
        started_early = any(alert[0].dedup_key in keys for _, keys in store.log)
        hold.set()
        results = await asyncio.gather(first, beside, held_back)
        return started_early, [r[0].result for r in results]

    started_early, results = asyncio.run(with_writers(pg_url, 3, work))
    assert not started_early
    assert results == ["created", "created", "attached"]
