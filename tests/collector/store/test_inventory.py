"""Inventory pushes: stored once per idempotency key, latest per host."""

from __future__ import annotations

import asyncio

from tests.collector.store.signals import T0, at

DOCUMENT = {"host": {"hostname": "web-01"}, "os": {"id": "debian", "version_id": "12"},
            "packages": [{"name": "openssl", "version": "3.0.15-1~deb12u1"}]}


def test_store_is_idempotent(db):
    async def scenario(s):
        assert await s.inventory.store("web-01", "key-1", DOCUMENT, T0) is True
        changed = {**DOCUMENT, "os": {"id": "debian", "version_id": "13"}}
        assert await s.inventory.store("web-01", "key-1", changed, at(1)) is False
        assert await s.inventory.latest("web-01") == DOCUMENT

    db.run(scenario)


def test_latest_and_hosts(db):
    async def scenario(s):
        assert await s.inventory.latest("web-01") is None
        assert await s.inventory.hosts() == []
        await s.inventory.store("web-01", "a", {"n": 1}, T0)
        await s.inventory.store("db-01", "b", {"n": 2}, at(1))
        await s.inventory.store("web-01", "c", {"n": 3}, at(2))
        assert await s.inventory.latest("web-01") == {"n": 3}
        assert await s.inventory.latest("db-01") == {"n": 2}
        assert await s.inventory.hosts() == ["db-01", "web-01"]

    db.run(scenario)


def test_concurrent_duplicates_store_once(db):
    async def scenario(s):
        results = await asyncio.gather(
            *(s.inventory.store("web-01", "same-key", {"n": i}, T0) for i in range(6)))
        assert sorted(results) == [False] * 5 + [True]
        assert await s.inventory.hosts() == ["web-01"]

    db.run(scenario)
