"""Which of several collectors runs the embedded evaluator: one at a time, handed over when
its holder dies.

On PostgreSQL the leader holds a session-level advisory lock (`pg_try_advisory_lock`) on a
connection of its own, kept open for as long as it leads. The lock lives exactly as long as
that database session: when the collector process dies (even `kill -9`) the server ends the
session and frees the lock, and the next follower to try (each tries once per evaluation
interval) takes over. A leader checks its connection before every round; if the connection is
gone, so is the lock, and it stops evaluating until it wins the lock again. On SQLite there is
one collector process per database, which always leads.

https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("regie.collector.leadership")

# The advisory lock's key: one 64-bit number for "the embedded evaluator" (b"regieval").
EVALUATOR_LOCK = int.from_bytes(b"regieval", "big")
# Bound on each database call the lock makes: a hung server must not hold the loop.
TIMEOUT_SECONDS = 5.0


class Leadership(Protocol):
    async def hold(self) -> bool:
        """Whether this process leads now (taking the lead when it is free)."""
        ...

    async def release(self) -> None:
        """Give the lead up (at shutdown)."""
        ...


class SoleLeader:
    """One process per database (SQLite): always the leader."""

    async def hold(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class AdvisoryLock:
    """A PostgreSQL session advisory lock held on a dedicated connection."""

    def __init__(self, engine: AsyncEngine, key: int = EVALUATOR_LOCK, *,
                 timeout_seconds: float = TIMEOUT_SECONDS) -> None:
        self._engine = engine
        self._key = key
        self._timeout = timeout_seconds
        self._connection: AsyncConnection | None = None

    async def hold(self) -> bool:
        if self._connection is not None:
            try:
                async with asyncio.timeout(self._timeout):
                    await self._connection.execute(text("SELECT 1"))
                    await self._connection.commit()
                return True
            except Exception as exc:  # the session, and the lock with it, are gone
                log.warning("lost the evaluator lock's connection: %s", exc)
                await self._drop()
                return False
        connection = None
        try:
            async with asyncio.timeout(self._timeout):
                connection = await self._engine.connect()
                held = (await connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                                 {"key": self._key})).scalar_one()
                # Session-level: the lock outlives this transaction, and the connection does
                # not sit idle in a transaction while it leads.
                await connection.commit()
        except Exception as exc:
            log.warning("could not ask for the evaluator lock: %s", exc)
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()
            return False
        if not held:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def release(self) -> None:
        if self._connection is None:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._timeout):
                await self._connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                               {"key": self._key})
                await self._connection.commit()
        await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                # A broken connection must not go back to the pool (it may hold nothing).
                await connection.invalidate()
                await connection.close()
