"""Group commit in the intake, on a real SQLite store (migrated by the real migrations).

Concurrent requests wait for one transaction together; each gets exactly its own outcomes,
only after the commit, and a failed transaction reaches every request of its group. The store
is real; its apply_signals is wrapped only to count transactions.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from alerting.priority import DEFAULT_MATRIX
from alerting.ticket import Action, Signal
from collector.config import CriticalitySettings
from collector.intake import GROUP_MAX_SIGNALS, Intake
from collector.metrics import CollectorMetrics
from collector.store.engine import create_engine, database_url
from collector.store.tickets import TicketStore
from tests.collector.conftest import migrated

NOW = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)


def batch(prefix: str, n: int) -> list[Signal]:
    return [Signal(dedup_key=f"{prefix}-{i}", action=Action.TRIGGER, origin="alertmanager",
                   summary=f"{prefix} {i}", occurred_at=NOW, host=f"h{i}") for i in range(n)]


class Counting(TicketStore):
    def __init__(self, engine) -> None:
        super().__init__(engine)
        self.transactions: list[int] = []

    async def apply_signals(self, signals, **kwargs):
        self.transactions.append(len(signals))
        return await super().apply_signals(signals, **kwargs)


async def with_intake(url: str, work):
    engine = create_engine(database_url(url))
    try:
        store = Counting(engine)
        intake = Intake(store, criticality=CriticalitySettings(), matrix=DEFAULT_MATRIX,
                        metrics=CollectorMetrics(), clock=lambda: NOW)
        return await work(intake, store)
    finally:
        await engine.dispose()


@pytest.fixture
def url(tmp_path) -> str:
    return migrated(f"sqlite:///{tmp_path / 'regie.db'}")


def test_concurrent_requests_share_one_transaction(url):
    async def work(intake, store):
        requests = [batch(f"r{n}", 10) + batch("shared", 1) for n in range(10)]
        results = await asyncio.gather(*(intake.signals(r) for r in requests))
        return requests, results, store.transactions

    requests, results, transactions = asyncio.run(with_intake(url, work))
    assert transactions == [110]  # ten requests, one transaction
    for request, outcomes in zip(requests, results, strict=True):
        assert [o.dedup_key for o in outcomes] == [s.dedup_key for s in request]
    shared = [outcomes[-1] for outcomes in results]
    assert [o.result for o in shared] == ["created"] + ["repeated"] * 9
    assert len({o.ticket_id for o in shared}) == 1


def test_groups_are_bounded_and_requests_never_split(url):
    size = GROUP_MAX_SIGNALS // 2 + 1  # two of these do not fit in one transaction

    async def work(intake, store):
        await asyncio.gather(*(intake.signals(batch(f"b{n}", size)) for n in range(3)))
        return store.transactions

    assert asyncio.run(with_intake(url, work)) == [size, size, size]


def test_a_failed_transaction_reaches_every_request(tmp_path):
    """A database without the schema: the transaction fails, every waiter gets the error."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"

    async def work(intake, store):
        return await asyncio.gather(*(intake.signals(batch(f"x{n}", 3)) for n in range(4)),
                                    return_exceptions=True)

    results = asyncio.run(with_intake(url, work))
    assert len(results) == 4
    assert all(isinstance(r, Exception) and "no such table" in str(r) for r in results)
