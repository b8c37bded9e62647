"""Alembic environment for the collector's schema, configured in code by
`collector.store.engine.alembic_config` (there is no alembic.ini).

Online migrations run on the collector's own async engine (the same SQLite pragmas, the same
asyncpg driver) inside `asyncio.run`, or on a connection handed in as
`config.attributes["connection"]` (`AsyncConnection.run_sync` from async code). SQLite runs
the whole upgrade in one transaction: it has transactional DDL once the driver stops managing
transactions (see collector/store/engine.py), so a failed upgrade leaves the old schema.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from collector.store.engine import create_engine
from collector.store.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: build the configuration with "
                           "collector.store.engine.alembic_config(url)")
    return url


def run_migrations_offline() -> None:
    """`--sql` mode: write the SQL instead of running it."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=sqlite, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async(_url()))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
