"""Plans of the reads an ingested batch makes: each goes through an index narrowed to the
batch's keys, hosts or parents, never a walk of every active ticket.

SQLite keeps no statistics unless ANALYZE runs, and without them its planner may pick
ix_tickets_status_id (every open or acknowledged ticket) for `... IN (...) AND status IN
(...)`: a read that grows with the open tickets, paid by every batch (bench/ingest.py: 12 ms
a batch at 40k open tickets for the attached-ticket lookup, before it named its index). The
statements are captured as the store runs them on a real SQLite file, then explained there.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event

from alerting.inhibition import parse_inhibit_rules
from collector.store.sqlite_writer import engines_of
from tests.collector.store.conftest import Database, sqlite_copy
from tests.collector.store.signals import T0, Assessor, at, resolve, trigger

RULES = parse_inhibit_rules([{"source_matchers": ['alertname="DiskFull"'],
                              "target_matchers": ['alertname="Target"'],
                              "equal": ["host"]}], source="t")


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Database:
    return Database("sqlite", sqlite_copy(sqlite_template, tmp_path / "regie.db"))


def alert(key: str, alertname: str, *, host: str = "app-01", **fields):
    return trigger(f"alertmanager/{key}", host=host, details={"labels": {"alertname": alertname}},
                   **fields)


def test_batch_reads_on_sqlite_use_narrow_indexes(sqlite_db):
    statements: list[tuple[str, tuple]] = []

    async def scenario(s):
        s.tickets.inhibit_rules = RULES
        assess = Assessor()

        def capture(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT") and "tickets" in statement:
                statements.append((statement, tuple(parameters)))

        await s.tickets.apply_signals(
            [alert("src", "DiskFull"), trigger("evaluator:HostDown:db-01", host="db-01",
                                               host_down=True)], now=T0, assess=assess)
        # The intake's transactions run on the SQLite writer thread's engine (made by the
        # first batch above): listen on every engine that runs the store's statements.
        engines = engines_of(s.engine)
        assert len(engines) == 2
        for engine in engines:
            event.listen(engine, "before_cursor_execute", capture)
        # Every read path: a target attaching (the rules' inhibitors of its host), an alert on
        # a host-down host, a repeat by key, a component's hosts, and a resolve of a ticket
        # that holds another (the attached-ticket lookup).
        outcomes = await s.tickets.apply_signals(
            [alert("t1", "Target"), alert("cpu", "CpuHigh", host="db-01"),
             alert("src", "DiskFull"), alert("web", "Load", host="web-01", component="web")],
            now=at(60), assess=assess)
        assert [o.result for o in outcomes] == ["attached", "attached", "repeated", "created"]
        # Several at once: with one id, `parent_id IN (?)` is an equality the planner indexes
        # anyway; with more it walked ix_tickets_status_id.
        outcomes = await s.tickets.apply_signals(
            [resolve("alertmanager/src", seconds=120), resolve("alertmanager/web", seconds=120),
             resolve("evaluator:HostDown:db-01", seconds=120)], now=at(120), assess=assess)
        assert [o.result for o in outcomes] == ["resolved"] * 3
        for engine in engines:
            event.remove(engine, "before_cursor_execute", capture)

    sqlite_db.run(scenario)
    assert any("parent_id IN" in sql for sql, _ in statements), "attached lookup not run"
    path = sqlite_db.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        for sql, parameters in statements:
            plan = " / ".join(row[3] for row in
                              connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters))
            assert "ix_tickets_status_id" not in plan, (sql, plan)
            assert "SCAN tickets" not in plan, (sql, plan)


def test_attached_lookup_on_a_fresh_postgresql_probes_the_parent_index(pg_db):
    """PostgreSQL, no statistics yet (a new deployment, or a storm outgrowing autovacuum):
    the attached-ticket lookup probes ix_tickets_parent_id per parent; as `parent_id IN (...)
    AND status IN (...)` the planner read every active ticket through the active-key index."""
    from collector.store.batch_statements import pg_attached

    async def scenario(s):
        sql = pg_attached().compile(s.engine.sync_engine).string   # one parameter: $1
        async with s.engine.connect() as connection:
            plan = " / ".join((await connection.exec_driver_sql(
                f"EXPLAIN {sql}", ([1, 2, 3],))).scalars())
        assert "ix_tickets_parent_id" in plan, plan
        assert "uq_tickets_active_dedup_key" not in plan, plan

    pg_db.run(scenario)
