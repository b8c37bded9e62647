"""collector/store/agent_names.py on SQLite and PostgreSQL: the names agents pushed, as each
host's latest push says, read without going through every push ever stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.collector.conftest import _in_process


def test_each_hosts_latest_name_and_later_reads_take_only_new_pushes(collector_db):
    from sqlalchemy import insert

    from collector.store.agent_names import REREAD_IDS, AgentNames
    from collector.store.models import InventoryPushRow

    pushes = InventoryPushRow.__table__
    now = datetime(2026, 12, 7, tzinfo=UTC)
    serial = iter(range(10**6))

    def push(host: str, fqdn: str | None) -> dict:
        return {"host": host, "idempotency_key": f"k{next(serial)}", "received_at": now,
                "document": {"schema": "regie.inventory/v1",
                             "host": {"hostname": host, "fqdn": fqdn}}}

    async def work(engine):
        names = AgentNames(engine)
        assert await names() == [] and names.rows_read == 0
        history = [push(f"web-{i % 3}", f"web-{i % 3}.old.example.net") for i in range(300)]
        history += [push("web-0", "web-0.example.net"), push("web-1", None)]
        async with engine.begin() as connection:
            await connection.execute(insert(pushes), history)
        fresh = AgentNames(engine)        # a collector starting on that history
        assert await fresh() == [("web-0", "web-0.example.net"), ("web-1", None),
                                 ("web-2", "web-2.old.example.net")]
        assert fresh.rows_read == 3       # each host's latest push, not all 302
        async with engine.begin() as connection:
            await connection.execute(insert(pushes), [push("web-2", "web-2.example.net"),
                                                      push("db-1", "db-1.example.net")])
        assert await fresh() == [("db-1", "db-1.example.net"), ("web-0", "web-0.example.net"),
                                 ("web-1", None), ("web-2", "web-2.example.net")]
        # The new two and the REREAD_IDS before them (committed out of order, perhaps).
        assert fresh.rows_read == 3 + 2 + REREAD_IDS
        # The first reader, which saw an empty table, now takes what came since.
        assert await names() == await fresh()

    asyncio.run(_in_process(collector_db, work))
