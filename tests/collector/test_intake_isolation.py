"""A group commit that fails because of one request's value fails only that request.

Real stores: SQLite and PostgreSQL, migrated by the real migrations, through the real Intake
and TicketStore. The HTTP layer now refuses every such value at parse time
(tests/collector/test_api_unstorable_input.py), so no request through the collector's API can
reach this fallback any more; these tests hand the intake signals directly, as a payload
parser with a gap would, to prove the fallback itself. What is injected: the signal objects
(bypassing parsing). What is real: the intake, the store, the database and its refusal.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math

import pytest

from collector.intake import ValueRefused
from tests.collector.test_intake import batch, with_intake


def spoiled(signal, kind: str):
    """The signal with a value the database refuses (each backend refuses these)."""
    return {
        "surrogate in summary": dataclasses.replace(signal, summary="bad \ud800"),
        "surrogate in key": dataclasses.replace(signal, dedup_key=signal.dedup_key + "\udfff"),
    }[kind]


@pytest.mark.parametrize("kind", ["surrogate in summary", "surrogate in key"])
def test_200_concurrent_requests_only_the_bad_ones_fail(collector_db, kind):
    requests = [batch(f"r{n}", 1) for n in range(200)]
    requests = [[spoiled(r[0], kind)] if n % 2 else r for n, r in enumerate(requests)]

    async def work(intake, store):
        results = await asyncio.gather(*(intake.signals(r) for r in requests),
                                       return_exceptions=True)
        listed = await store.list(dataclasses.replace(_everything(), limit=500))
        return results, listed, store.transactions

    results, listed, transactions = asyncio.run(with_intake(collector_db, work))
    good = [r for n, r in enumerate(results) if n % 2 == 0]
    bad = [r for n, r in enumerate(results) if n % 2]
    assert all(isinstance(r, list) and r[0].result == "created" for r in good), good[:3]
    assert all(isinstance(r, ValueRefused) for r in bad), bad[:3]
    assert str(bad[0]).startswith("body: a value the database cannot store")
    assert sorted(t.dedup_key for t in listed) == sorted(r[0].dedup_key for r in requests[::2])
    # Requests were grouped (so the fallback was needed), then retried one by one.
    assert max(transactions) > 1
    assert len(transactions) > 200


def test_postgresql_refuses_nan_in_details_and_long_names(tmp_path):
    """Values only PostgreSQL refuses (SQLite stores them): non-finite JSON numbers, a lone
    surrogate inside JSON (SQLite keeps the escape), text longer than a varchar column."""
    from tests.collector.conftest import migrated, throwaway_database

    with throwaway_database("postgresql", tmp_path) as url:
        migrated(url)
        requests = [batch(f"p{n}", 2) for n in range(6)]
        requests[1][1] = dataclasses.replace(requests[1][1], details={"load": math.nan})
        requests[3][1] = dataclasses.replace(requests[3][1], details={"a": ["\ud800"]})
        requests[4][0] = dataclasses.replace(requests[4][0], host="h" * 300)

        async def work(intake, store):
            return await asyncio.gather(*(intake.signals(r) for r in requests),
                                        return_exceptions=True)

        results = asyncio.run(with_intake(url, work))
    assert [isinstance(r, ValueRefused) for r in results] == [False, True, False, True,
                                                              True, False]
    assert all(o.result == "created" for n in (0, 2, 5) for o in results[n])


def test_an_unusable_database_is_not_retried_per_request(tmp_path):
    """No schema (as an unreachable or broken database): the group fails once, each request
    learns it, and the store is not asked again per request."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"

    async def work(intake, store):
        results = await asyncio.gather(*(intake.signals(batch(f"x{n}", 3)) for n in range(4)),
                                       return_exceptions=True)
        return results, store.transactions

    results, transactions = asyncio.run(with_intake(url, work))
    assert all(isinstance(r, Exception) and not isinstance(r, ValueRefused)
               and "no such table" in str(r) for r in results)
    assert len(transactions) < 4  # the group's attempt(s), never one per request


def _everything():
    from alerting.ticket import Status
    from collector.store.tickets import TicketFilter

    return TicketFilter(status=tuple(Status), include_attached=True)
