"""API tokens in the store (hashes only), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from collector.store.tokens import TokenExists, TokenRecord
from tests.collector.store.signals import T0, at


def test_create_find_list_revoke(db):
    async def scenario(s):
        record = await s.tokens.create("alertmanager", "ingest", "hash-1", T0)
        assert record == TokenRecord(id=record.id, name="alertmanager", role="ingest",
                                     created_at=T0, last_used_at=None, revoked_at=None)
        held = await s.tokens.create("alice", "responder", "hash-2", at(1), person="alice")
        assert held.person == "alice" and record.person is None
        assert await s.tokens.find_active("hash-1") == record
        assert await s.tokens.lookup("hash-1") == (record.id, "alertmanager", "ingest",
                                                   "hash-1", None)
        assert await s.tokens.lookup("hash-2") == (held.id, "alice", "responder", "hash-2",
                                                   "alice")
        assert await s.tokens.find_active("unknown") is None
        assert [t.name for t in await s.tokens.list()] == ["alertmanager", "alice"]

        assert await s.tokens.revoke("alertmanager", at(2)) is True
        assert await s.tokens.revoke("alertmanager", at(3)) is False     # already revoked
        assert await s.tokens.revoke("nobody", at(3)) is False
        assert await s.tokens.find_active("hash-1") is None
        assert await s.tokens.lookup("hash-1") is None
        [revoked, _] = await s.tokens.list()
        assert revoked.revoked_at == at(2)

    db.run(scenario)


def test_names_are_unique_also_after_revocation(db):
    async def scenario(s):
        await s.tokens.create("alice", "responder", "hash-1", T0)
        with pytest.raises(TokenExists, match="'alice' exists"):
            await s.tokens.create("alice", "admin", "hash-2", T0)
        await s.tokens.revoke("alice", at(1))
        with pytest.raises(TokenExists):
            await s.tokens.create("alice", "admin", "hash-3", at(2))
        assert [t.role for t in await s.tokens.list()] == ["responder"]

    db.run(scenario)


def test_touch_moves_last_use_forward(db):
    async def scenario(s):
        record = await s.tokens.create("agent-web-01", "agent", "hash-1", T0)
        await s.tokens.touch(record.id, at(10))
        assert (await s.tokens.find_active("hash-1")).last_used_at == at(10)
        await s.tokens.touch(record.id, at(5))      # a late, older use
        assert (await s.tokens.find_active("hash-1")).last_used_at == at(10)

    db.run(scenario)
