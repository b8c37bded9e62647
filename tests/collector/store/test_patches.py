"""The update history's store on SQLite and PostgreSQL: two collectors storing pushes of one
host at once record an offered update once (the partial unique index decides)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from collector.store.engine import create_engine, database_url, write_transaction
from collector.store.inventory import PUSHES
from collector.store.patches import UPDATES, record_push

AT = datetime(2026, 11, 30, 12, tzinfo=UTC)
DOCUMENT = {"packages": [{"manager": "dpkg", "name": "openssl", "version": "3.0.14-1",
                          "architecture": "amd64"}],
            "updates": [{"manager": "apt", "package": "openssl", "architecture": "amd64",
                         "version": "3.0.15-1", "security": True}],
            "errors": []}


def test_two_transactions_record_an_offered_update_once(collector_db):
    """Each transaction stores its own push and reads no pending entry (the other's is not
    committed yet); the second one's insert meets the first's row in the unique index and
    is skipped (PostgreSQL waits for the first to commit; SQLite's writers take turns)."""

    async def one_push(engine, key: str, started: asyncio.Event, release: asyncio.Event):
        async with write_transaction(engine) as connection:
            await connection.execute(PUSHES.insert().values(
                host="web-01", idempotency_key=key, received_at=AT, document=DOCUMENT))
            started.set()
            await release.wait()
            return await record_push(connection, "web-01", DOCUMENT, AT)

    async def main() -> tuple[int, int]:
        first_engine = create_engine(database_url(collector_db))
        second_engine = create_engine(database_url(collector_db))
        try:
            go, first_in, second_in = asyncio.Event(), asyncio.Event(), asyncio.Event()
            first = asyncio.create_task(one_push(first_engine, "a", first_in, go))
            await first_in.wait()
            second = asyncio.create_task(one_push(second_engine, "b", second_in, go))
            if second_engine.dialect.name == "postgresql":
                await second_in.wait()   # both inside their transactions before either writes
            go.set()
            steps = await asyncio.wait_for(asyncio.gather(first, second), timeout=60)
            async with first_engine.connect() as connection:
                count = (await connection.execute(
                    select(func.count()).select_from(UPDATES))).scalar_one()
            return sum(len(s.new) for s in steps), count
        finally:
            await first_engine.dispose()
            await second_engine.dispose()

    offered, stored = asyncio.run(main())
    assert stored == 1
    assert offered >= 1
