"""The intake's SQLite transactions on their writer thread (collector/store/sqlite_writer.py),
on a real SQLite file: the engine's observers hear of them, a failed batch leaves nothing, the
async engine's writers and the writer thread take turns, and a cancelled caller does not free
the writer queue while its transaction still runs."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from alerting.priority import assess as price
from alerting.ticket import Status
from collector.store.engine import observe, sqlite_writer_queue, write_transaction
from collector.store.sqlite_writer import run_to_end, sqlite_writer
from collector.store.ticket_rows import TICKETS
from tests.collector.store.conftest import Database, sqlite_copy
from tests.collector.store.signals import Assessor, at, report, resolve, trigger


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Database:
    return Database("sqlite", sqlite_copy(sqlite_template, tmp_path / "regie.db"))


def test_observers_hear_of_the_writer_threads_transactions(sqlite_db):
    async def scenario(s):
        answered, committed = [], []
        observe(s.engine, answered=lambda: answered.append(1),
                committed=lambda: committed.append(1))
        await s.tickets.apply_signals([trigger("a"), trigger("b")], now=at(0), assess=Assessor())
        assert committed == [1]
        assert answered, "the statements' answers were not reported"
        # A resolve of a key no ticket has changes nothing: answered, not committed.
        before = len(answered)
        outcomes = await s.tickets.apply_signals([resolve("nobody")], now=at(1),
                                                 assess=Assessor())
        assert [o.result for o in outcomes] == ["ignored"]
        assert committed == [1] and len(answered) > before

    sqlite_db.run(scenario)


def test_the_batch_runs_on_the_writer_thread(sqlite_db):
    async def scenario(s):
        threads = set()

        def assess(signal, systems):
            threads.add(threading.current_thread().name)
            return Assessor()(signal, systems)

        await s.tickets.apply_signals([trigger("a")], now=at(0), assess=assess)
        return threads

    names = sqlite_db.run(scenario)
    assert len(names) == 1 and next(iter(names)).startswith("regie-sqlite-writer"), names


def test_a_failed_batch_leaves_nothing_and_the_next_one_commits(sqlite_db):
    async def scenario(s):
        def failing(signal, systems):
            if signal.dedup_key == "bad":
                raise ValueError("refused while pricing")
            return Assessor()(signal, systems)

        with pytest.raises(ValueError, match="refused while pricing"):
            await s.tickets.apply_signals([trigger("good"), trigger("bad")], now=at(0),
                                          assess=failing)
        async with s.engine.connect() as connection:
            assert (await connection.scalar(select(func.count()).select_from(TICKETS))) == 0
        outcomes = await s.tickets.apply_signals([trigger("good")], now=at(1), assess=failing)
        assert [o.result for o in outcomes] == ["created"]

    sqlite_db.run(scenario)


def test_async_writers_and_the_writer_thread_take_turns(sqlite_db):
    """Intake batches and user reports (the async engine's write transactions) at once: all
    commit, none meets 'database is locked'."""

    async def scenario(s):
        batches = [s.tickets.apply_signals([trigger(f"k{i}-{j}") for j in range(20)],
                                           now=at(i), assess=Assessor()) for i in range(30)]
        reports = [s.tickets.create_user_ticket(
            report(f"report {i}"), assessment=price(criticality=report().impact,
                                                    urgency=report().urgency), now=at(i))
            for i in range(30)]
        results = await asyncio.gather(*batches, *reports)
        assert all(o.result == "created" for outcomes in results[:30] for o in outcomes)
        async with s.engine.connect() as connection:
            return await connection.scalar(select(func.count()).select_from(TICKETS)
                                           .where(TICKETS.c.status == Status.OPEN))

    assert sqlite_db.run(scenario) == 30 * 20 + 30


def test_a_cancelled_caller_keeps_the_queue_until_its_transaction_ends(sqlite_db):
    """The transaction runs on in its thread after its caller is cancelled: a writer queued
    behind it starts only once it has committed (it sees its rows)."""

    async def scenario(s):
        release = threading.Event()
        started = threading.Event()

        def slow(connection):
            started.set()
            release.wait(timeout=30)
            connection.execute(TICKETS.delete())   # a write inside the transaction
            return "done"

        task = asyncio.create_task(sqlite_writer(s.engine).run(slow))
        await asyncio.to_thread(started.wait, 30)
        task.cancel()
        # The cancellation reaches the caller at once; it still holds the queue.
        done, _ = await asyncio.wait([task], timeout=0.2)
        assert not done and sqlite_writer_queue(s.engine).locked()
        seen = []

        async def next_writer():
            async with write_transaction(s.engine) as connection:
                seen.append(await connection.scalar(select(func.count()).select_from(TICKETS)))

        after = asyncio.create_task(next_writer())
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        await after
        assert seen == [0]          # it ran after the delete committed

    sqlite_db.run(scenario)


def test_run_to_end_refuses_a_coroutine_that_waits():
    async def waits():
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="waited for something"):
        run_to_end(waits())
