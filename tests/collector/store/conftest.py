"""Real databases for the store tests: a SQLite file and a throw-away PostgreSQL database.

The schema always comes from the Alembic migrations (`collector.store.engine.migrate`): once
per session into a template (a SQLite file, a PostgreSQL template database), which each test
then copies, so every test starts from an empty, freshly migrated database of its own.
PostgreSQL is the server on 127.0.0.1:5432 (trust auth, database `test`); when it does not
answer, the PostgreSQL tests fail with how to start it (make test does), never skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from collector.store.engine import create_engine, migrate
from collector.store.inventory import InventoryStore
from collector.store.tickets import TicketStore
from collector.store.tokens import TokenStore
from tests.collector.conftest import pg_admin

T = TypeVar("T")

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_ADMIN = f"{PG_SERVER}/test"


@dataclass(frozen=True)
class Stores:
    engine: AsyncEngine
    tickets: TicketStore
    tokens: TokenStore
    inventory: InventoryStore


@dataclass(frozen=True)
class Database:
    kind: str   # "sqlite" or "postgresql"
    url: str    # as an operator writes it: sqlite:///PATH, postgresql://...

    def run(self, scenario: Callable[[Stores], Awaitable[T]]) -> T:
        """Run `scenario` in a fresh event loop with an engine on this database."""

        async def main() -> T:
            engine = create_engine(self.url)
            try:
                return await scenario(Stores(engine, TicketStore(engine), TokenStore(engine),
                                             InventoryStore(engine)))
            finally:
                await engine.dispose()

        return asyncio.run(main())




def pg_name(purpose: str) -> str:
    return f"regie_{purpose}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "regie.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = pg_name("template")
    pg_admin(f'CREATE DATABASE "{name}"')
    try:
        migrate(f"{PG_SERVER}/{name}")
        yield name
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_empty() -> Iterator[str]:
    """An empty PostgreSQL database (no schema), dropped afterwards; its URL."""
    name = pg_name("test")
    pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """An empty database (no schema) on each backend."""
    if request.param == "sqlite":
        return Database("sqlite", f"sqlite:///{tmp_path / 'empty.db'}")
    return Database("postgresql", request.getfixturevalue("pg_empty"))


@contextlib.contextmanager
def pg_copy(template: str) -> Iterator[str]:
    """A new PostgreSQL database copied from `template`, dropped afterwards; its URL."""
    name = pg_name("test")
    pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_copy(template: Path, path: Path) -> str:
    """A copy of the migrated SQLite template at `path`; its URL."""
    with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
        source.backup(target)
    source.close()
    target.close()
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A freshly migrated database of its own on each backend."""
    if request.param == "sqlite":
        yield Database("sqlite", sqlite_copy(request.getfixturevalue("sqlite_template"),
                                             tmp_path / "regie.db"))
        return
    with pg_copy(request.getfixturevalue("pg_template")) as url:
        yield Database("postgresql", url)


@pytest.fixture
def pg_db(pg_template: str) -> Iterator[Database]:
    """A freshly migrated PostgreSQL database (for tests of several collector processes)."""
    with pg_copy(pg_template) as url:
        yield Database("postgresql", url)
