"""collector/leadership.py against the real PostgreSQL server: one holder of the evaluator lock
at a time; a holder whose session ends (here: terminated by the server) loses it and notices,
and another takes it."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from collector.leadership import AdvisoryLock, SoleLeader
from collector.store.engine import create_engine, database_url
from tests.collector.conftest import throwaway_database


def test_one_holder_and_a_handover_when_its_session_ends(tmp_path):
    with throwaway_database("postgresql", tmp_path) as url:
        asyncio.run(_scenario(url))


async def _scenario(url: str) -> None:
    engines = [create_engine(database_url(url)) for _ in range(3)]
    first, second = AdvisoryLock(engines[0]), AdvisoryLock(engines[1])
    try:
        assert await first.hold() is True
        assert await first.hold() is True          # still held: the same session
        assert await second.hold() is False
        # The server ends the holder's session, as when its process dies.
        async with engines[2].connect() as admin:
            ended = (await admin.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND granted"))).scalars().all()
            await admin.commit()
        assert ended == [True]
        # The backend exits (and frees the lock) shortly after the signal: poll for it.
        assert await _eventually(second.hold), "the lock was not handed over"
        assert await first.hold() is False         # it notices it lost the lock
        assert await first.hold() is False         # ... and cannot take it back
        await second.release()
        assert await first.hold() is True
        await first.release()
        await first.release()                      # releasing twice is harmless
    finally:
        for engine in engines:
            await engine.dispose()


async def _eventually(probe, timeout: float = 20.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await probe():
            return True
        await asyncio.sleep(0.1)
    return False


def test_sqlite_always_leads():
    async def scenario() -> None:
        leader = SoleLeader()
        assert await leader.hold() is True
        await leader.release()
        assert await leader.hold() is True

    asyncio.run(scenario())
