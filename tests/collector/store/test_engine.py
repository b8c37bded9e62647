"""Database URLs, connection settings, the migrations and the schema check."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, text
from sqlalchemy.exc import IntegrityError

from alerting.ticket import ACTIVE_STATUSES, Criticality, Priority, Source, Status, Urgency
from collector.store.engine import (
    SchemaError,
    alembic_config,
    check_schema,
    create_engine,
    database_url,
    head_revision,
    migrate,
)
from collector.store.models import ACTIVE_PREDICATE, Base, TicketRow
from tests.collector.store.signals import T0

# The newest migration file's number: the head every upgrade must reach.
NEWEST = max(p.name[:4] for p in (Path(__file__).parents[3] / "collector" / "migrations"
                                   / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("sqlite:///regie.db", "sqlite+aiosqlite:///regie.db"),
        ("sqlite:////var/lib/regie/regie.db", "sqlite+aiosqlite:////var/lib/regie/regie.db"),
        ("sqlite+aiosqlite:///regie.db", "sqlite+aiosqlite:///regie.db"),
        ("postgresql://regie@db.example/regie", "postgresql+asyncpg://regie@db.example/regie"),
        ("postgres://regie:s%40cret@db:5433/regie",
         "postgresql+asyncpg://regie:s%40cret@db:5433/regie"),
        ("postgresql+asyncpg://regie@db/regie", "postgresql+asyncpg://regie@db/regie"),
        ("postgresql://regie@db/regie?ssl=require",
         "postgresql+asyncpg://regie@db/regie?ssl=require"),
    ],
)
def test_database_url(configured, expected):
    assert database_url(configured) == expected


@pytest.mark.parametrize(
    ("configured", "reason"),
    [
        ("regie.db", "not a database URL"),
        ("mysql://root@db/regie", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://u:secret@db/regie", "driver 'psycopg2' is not supported"),
        ("sqlite+pysqlite:///regie.db", "driver 'pysqlite' is not supported"),
        ("sqlite://", "needs a database file"),
        ("sqlite:///:memory:", "needs a database file"),
    ],
)
def test_database_url_refused(configured, reason):
    with pytest.raises(ValueError, match=reason) as refused:
        database_url(configured)
    assert "secret" not in str(refused.value)


def test_sqlite_synchronous_is_checked(tmp_path):
    with pytest.raises(ValueError, match="one of OFF, NORMAL, FULL, EXTRA"):
        create_engine(f"sqlite:///{tmp_path / 'x.db'}", sqlite_synchronous="FULL; DROP")


@pytest.mark.parametrize(("level", "value"), [("FULL", 2), ("normal", 1)])
def test_sqlite_connections_get_their_pragmas(tmp_path, level, value):
    async def main():
        engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}", sqlite_synchronous=level)
        try:
            async with engine.connect() as connection:
                return [(await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                        for name in ("journal_mode", "synchronous", "foreign_keys",
                                     "busy_timeout")]
        finally:
            await engine.dispose()

    assert asyncio.run(main()) == ["wal", value, 1, 10000]


def test_the_active_predicate_names_the_active_statuses():
    listed = ACTIVE_PREDICATE.removeprefix("status IN (").removesuffix(")")
    assert {v.strip().strip("'") for v in listed.split(",")} == {s.value for s in
                                                                  ACTIVE_STATUSES}


def test_check_schema_on_an_empty_database(empty_db):
    async def main():
        engine = create_engine(empty_db.url)
        try:
            await check_schema(engine)
        finally:
            await engine.dispose()

    with pytest.raises(SchemaError, match=r"^database has no Regie schema: run `regie collector "
                                          r"migrate`$") as raised:
        asyncio.run(main())
    # A command that knows how it found its installation names it (regie/installation.py).
    assert raised.value.with_command("regie collector migrate --config /x/regie.toml") == (
        "database has no Regie schema: run `regie collector migrate --config /x/regie.toml`")


def test_migrate_then_check(empty_db):
    assert migrate(empty_db.url) == head_revision() == NEWEST
    assert migrate(empty_db.url) == NEWEST          # again: nothing to do

    asyncio.run(_check(empty_db.url))


def test_unknown_revision_is_named(db):
    async def main():
        engine = create_engine(db.url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
            await check_schema(engine)
        finally:
            await engine.dispose()

    with pytest.raises(SchemaError, match=r"at revision f00d, which this version of Regie does "
                                          rf"not know .* this code needs {NEWEST}"):
        asyncio.run(main())


def test_tables_without_a_revision(db):
    command.stamp(alembic_config(db.url), "base")   # as if created without the migrations

    async def main():
        engine = create_engine(db.url)
        try:
            await check_schema(engine)
        finally:
            await engine.dispose()

    with pytest.raises(SchemaError,
                       match=r"has tables \(.*\) but no Regie schema"):
        asyncio.run(main())


def test_schema_behind_the_code_is_refused_with_the_fix(db):
    """A database left at 0001 by an older Regie: the collector names both revisions."""
    command.downgrade(alembic_config(db.url), "0001")
    with pytest.raises(SchemaError, match=r"^database schema is at revision 0001 but this "
                                          rf"code needs {NEWEST}: run `regie collector migrate"):
        asyncio.run(_check(db.url))
    assert migrate(db.url) == NEWEST
    asyncio.run(_check(db.url))


def test_the_migrations_match_the_models(db):
    def differences(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async def main():
        engine = create_engine(db.url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(differences)
        finally:
            await engine.dispose()

    assert asyncio.run(main()) == []


def test_downgrade_and_upgrade_again(db):
    config = alembic_config(db.url)

    async def tables():
        engine = create_engine(db.url)
        try:
            async with engine.connect() as connection:
                return sorted(await connection.run_sync(
                    lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    command.downgrade(config, "base")
    assert asyncio.run(tables()) == ["alembic_version"]
    with pytest.raises(SchemaError, match="has no Regie schema"):
        asyncio.run(_check(db.url))
    assert migrate(db.url) == NEWEST
    assert asyncio.run(tables()) == ["action_uses", "alembic_version", "assets",
                                     "change_events", "change_hosts", "changes",
                                     "console_sessions", "contracts", "eos_products",
                                     "escalation_policies", "escalations",
                                     "hardware_models", "host_software", "inventory_pushes",
                                     "maintenance_windows",
                                     "notifications", "package_updates",
                                     "registry_syncs", "ticket_events",
                                     "tickets", "tokens", "vendor_case_events",
                                     "vendor_case_links", "vendor_cases"]


async def _check(url: str) -> None:
    engine = create_engine(url)
    try:
        await check_schema(engine)
    finally:
        await engine.dispose()


def test_migrate_refuses_to_run_inside_an_event_loop(tmp_path):
    async def main():
        migrate(f"sqlite:///{tmp_path / 'x.db'}")

    with pytest.raises(RuntimeError, match=r"asyncio.to_thread\(migrate, url\)"):
        asyncio.run(main())


def test_the_database_allows_one_active_ticket_per_key(db):
    """The rule holds in the schema itself, whatever the code does."""
    row = dict(priority=Priority.P3, impact=Criticality.MEDIUM, urgency=Urgency.MEDIUM,
               summary="s", description="", source=Source.MONITORING, origin="events",
               occurrences=1, first_seen=T0, last_seen=T0, created_at=T0, updated_at=T0,
               host_down=False, details={})
    tickets = TicketRow.__table__

    async def main():
        engine = create_engine(db.url)
        try:
            async with engine.begin() as connection:
                for status in (Status.RESOLVED, Status.CLOSED, Status.RESOLVED, Status.OPEN):
                    await connection.execute(insert(tickets).values(
                        dedup_key="k", status=status, **row))
                # User tickets have no key: any number of them.
                for _ in range(2):
                    await connection.execute(insert(tickets).values(
                        dedup_key=None, status=Status.OPEN, **row))
            for status in (Status.OPEN, Status.ACKNOWLEDGED):
                with pytest.raises(IntegrityError):
                    async with engine.begin() as connection:
                        await connection.execute(insert(tickets).values(
                            dedup_key="k", status=status, **row))
        finally:
            await engine.dispose()

    asyncio.run(main())
