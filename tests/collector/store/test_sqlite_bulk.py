"""SQLite bulk writes without SQLAlchemy's per-row processing (collector/store/sqlite_bulk.py)
store exactly what SQLAlchemy's own executemany stores, and RETURNING covers every row even
when the rows take several statements."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import insert, text

from alerting.ticket import Priority, Recovery, Source, Status, Urgency
from collector.store import sqlite_bulk
from collector.store.conflict import insert_or_skip
from collector.store.engine import create_engine
from collector.store.ticket_rows import EVENTS, IS_ACTIVE, TICKETS
from tests.collector.store.conftest import sqlite_copy
from tests.collector.store.signals import T0, at


def ticket(n: int) -> dict:
    return {"dedup_key": f"k{n}", "status": Status.OPEN, "priority": Priority.P3,
            "impact": "medium", "urgency": Urgency.MEDIUM, "summary": f"Disk {n} ∑ full",
            "description": "", "host": "web-01", "service": None, "component": "filesystem",
            "source": Source.MONITORING, "origin": "alertmanager", "reporter": None,
            "assignee": None, "occurrences": 1, "first_seen": at(n), "last_seen": at(n),
            "created_at": T0, "updated_at": T0, "acknowledged_at": None, "resolved_at": None,
            "closed_at": None, "recovered_at": None, "parent_id": None, "host_down": False,
            "recovery": Recovery.RESOLVE, "priority_override_reason": None,
            "details": {"labels": {"alertname": "DiskFull", "n": n}, "note": "é\u2028"}}


def dump(path: Path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()  # noqa: S608
    connection.close()
    return rows


def test_the_same_rows_as_sqlalchemy_writes(sqlite_template, tmp_path, monkeypatch):
    # Three rows a statement: seven rows take three multi-row INSERTs.
    monkeypatch.setattr(sqlite_bulk, "MAX_PARAMETERS", 3 * (len(TICKETS.c) - 1))
    rows = [ticket(n) for n in range(7)]
    opened = insert_or_skip("sqlite", TICKETS, index_elements=["dedup_key"],
                            index_where=IS_ACTIVE).returning(TICKETS.c.id, TICKETS.c.dedup_key)

    async def write(url: str, bulk: bool) -> list[tuple]:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                if bulk:
                    returned = await sqlite_bulk.execute(connection, opened, rows)
                else:
                    returned = (await connection.execute(opened, rows)).all()
                events = [{"ticket_id": id_, "at": T0, "kind": "created", "actor": "am",
                           "message": f"opened {key}", "data": {"key": key}}
                          for id_, key in returned]
                if bulk:
                    assert await sqlite_bulk.execute(connection, insert(EVENTS), events) == []
                else:
                    await connection.execute(insert(EVENTS), events)
                await connection.execute(text("SELECT 1"))
            return sorted(tuple(r) for r in returned)
        finally:
            await engine.dispose()

    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    returned = asyncio.run(write(sqlite_copy(sqlite_template, ours), bulk=True))
    expected = asyncio.run(write(sqlite_copy(sqlite_template, theirs), bulk=False))
    assert returned == expected
    assert len(returned) == 7
    assert dump(ours, "tickets") == dump(theirs, "tickets")
    assert dump(ours, "ticket_events") == dump(theirs, "ticket_events")
    # ... and what a skipped conflict returns: nothing for the key already open.
    async def again() -> list:
        engine = create_engine(f"sqlite:///{ours}")
        try:
            async with engine.begin() as connection:
                return await sqlite_bulk.execute(connection, opened, [ticket(0), ticket(9)])
        finally:
            await engine.dispose()

    assert [key for _, key in asyncio.run(again())] == ["k9"]
