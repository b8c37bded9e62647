"""Inventory documents pushed by agents: stored once per idempotency key, latest per host.

An agent replays a push from its spool until it sees an answer, so the same document can
arrive twice, even at once on two collectors: the unique key decides, and a repeat is not an
error (`store` returns False).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from collector.store.conflict import insert_or_skip
from collector.store.engine import write_transaction
from collector.store.models import InventoryPushRow

PUSHES = InventoryPushRow.__table__


class InventoryStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def store(self, host: str, idempotency_key: str, document: dict[str, Any],
                    now: datetime, *,
                    also: Callable[[AsyncConnection], Awaitable[None]] | None = None) -> bool:
        """True when the push is new; False when this key was stored before (nothing changes).

        `also(connection)` runs in the same transaction when the push is new (the registry
        replaces the host's matched software): both are committed, or neither."""
        statement = insert_or_skip(self._engine.dialect.name, PUSHES,
                                   index_elements=["idempotency_key"])
        async with write_transaction(self._engine) as connection:
            row = (await connection.execute(
                statement.values(host=host, idempotency_key=idempotency_key, received_at=now,
                                 document=document)
                .returning(PUSHES.c.id))).first()
            if row is not None and also is not None:
                await also(connection)
        return row is not None

    async def latest(self, host: str) -> dict[str, Any] | None:
        """The host's most recently received document."""
        query = (select(PUSHES.c.document).where(PUSHES.c.host == host)
                 .order_by(PUSHES.c.id.desc()).limit(1))
        async with self._engine.connect() as connection:
            return (await connection.execute(query)).scalar_one_or_none()

    async def hosts(self) -> list[str]:
        """Every host that pushed an inventory, sorted."""
        query = select(PUSHES.c.host).distinct().order_by(PUSHES.c.host)
        async with self._engine.connect() as connection:
            return list((await connection.execute(query)).scalars())
