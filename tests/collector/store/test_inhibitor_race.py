"""A ticket never attaches to an inhibitor that a concurrent transaction is resolving
(PostgreSQL: another collector, or another of one collector's group transactions).

The resolving transaction is played by a second connection that marks the host-down ticket
resolved and holds its transaction open (what a resolving batch does to that row, without the
rest of its work); the batch under test must wait for it, see the ticket resolved, and open a
ticket of its own that pages. Without the wait it attached to the resolved ticket and never
paged. A real PostgreSQL database; the wait is observed in pg_stat_activity, not timed."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, text, update

from alerting.ticket import Status
from collector.store.ticket_rows import TICKETS
from tests.collector.store.signals import Assessor, at, trigger


async def _waiting_on_a_lock(engine, task: asyncio.Task) -> bool:
    """Whether a backend of this database waits on a lock, before `task` ends (30 s at most)."""
    for _ in range(600):
        if task.done():
            return False
        async with engine.connect() as connection:
            waiting = await connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"))
        if waiting:
            return True
        await asyncio.sleep(0.05)
    return False


def test_no_ticket_attaches_to_an_inhibitor_resolved_meanwhile(pg_db):
    async def scenario(s):
        assess = Assessor()
        await s.tickets.apply_signals([trigger("down", host="db-01", host_down=True)],
                                      now=at(0), assess=assess)
        async with s.engine.connect() as resolver:
            await resolver.begin()
            await resolver.execute(update(TICKETS).where(TICKETS.c.dedup_key == "down")
                                   .values(status=Status.RESOLVED))
            batch = asyncio.create_task(s.tickets.apply_signals(
                [trigger("cpu", host="db-01")], now=at(1), assess=assess))
            waited = await _waiting_on_a_lock(s.engine, batch)
            await resolver.commit()
        outcomes = await batch
        async with s.engine.connect() as connection:
            parent = await connection.scalar(select(TICKETS.c.parent_id)
                                             .where(TICKETS.c.dedup_key == "cpu"))
            opened = await connection.scalar(select(func.count()).select_from(TICKETS)
                                             .where(TICKETS.c.dedup_key == "cpu"))
        return waited, [o.result for o in outcomes], parent, opened

    waited, results, parent, opened = pg_db.run(scenario)
    assert waited, "the batch did not wait for the resolving transaction"
    assert results == ["created"] and parent is None and opened == 1


def test_an_inhibitor_still_active_holds_alerts_back_as_before(pg_db):
    """The lock taken on the inhibitor changes nothing when nobody resolves it."""

    async def scenario(s):
        assess = Assessor()
        await s.tickets.apply_signals([trigger("down", host="db-01", host_down=True)],
                                      now=at(0), assess=assess)
        outcomes = await s.tickets.apply_signals(
            [trigger("cpu", host="db-01"), trigger("down", host="db-01", host_down=True)],
            now=at(1), assess=assess)
        return [o.result for o in outcomes]

    assert pg_db.run(scenario) == ["attached", "repeated"]
