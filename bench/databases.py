"""Throw-away databases: a fresh SQLite file or PostgreSQL database per measurement, migrated
with `regie collector migrate`, dropped and removed at the end."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import sqlite3
import tempfile
from pathlib import Path

from processes import regie
from progress import say

BACKENDS = ("sqlite", "postgresql")


def chosen_backends(choice: str) -> list[str]:
    """--backend sqlite|postgresql|both as the list of backends to measure."""
    return list(BACKENDS) if choice == "both" else [choice]


class PostgreSQL:
    """Throw-away databases on the server behind `url` (its database is only connected to)."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def _admin(self):
        import asyncpg

        return await asyncpg.connect(self.url, timeout=10)

    async def version(self) -> str:
        connection = await self._admin()
        try:
            return await connection.fetchval("SELECT version()")
        finally:
            await connection.close()

    async def create(self) -> str:
        name = f"regie_bench_{secrets.token_hex(4)}"
        connection = await self._admin()
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return name

    async def drop(self, name: str) -> None:
        connection = await self._admin()
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    def url_of(self, name: str) -> str:
        from sqlalchemy.engine import make_url

        url = make_url(self.url).set(drivername="postgresql", database=name)
        return url.render_as_string(hide_password=False)

    async def server_pids(self, name: str) -> list[int]:
        """The server processes working for database `name`: its backends (the collectors'
        pooled connections, autovacuum) and the shared writers (WAL writer, checkpointer,
        background writer). Other databases' backends on the same server are left out: on a
        shared machine they are someone else's load (summing every `postgres` process counted
        them, and went negative when one exited during the window)."""
        rows = await self.query(name, "SELECT pid FROM pg_stat_activity "
                                "WHERE pid <> pg_backend_pid() AND (datname = current_database()"
                                " OR backend_type IN ('walwriter', 'checkpointer', "
                                "'background writer'))")
        return [pid for (pid,) in rows]

    async def query(self, name: str, sql: str) -> list[tuple]:
        import asyncpg

        connection = await asyncpg.connect(self.url_of(name), timeout=10)
        try:
            return [tuple(r) for r in await connection.fetch(sql)]
        finally:
            await connection.close()


async def reach(url: str, versions: dict[str, str]) -> tuple[PostgreSQL | None, str]:
    """(the server behind `url`, "") when it answers, its version then put in `versions`;
    (None, the reason) when it does not: the PostgreSQL rows are then skipped with it."""
    server = PostgreSQL(url)
    try:
        version = await server.version()
    except Exception as exc:
        reason = f"PostgreSQL at {url} not reachable: {exc}"
        say(reason)
        return None, reason
    versions["PostgreSQL"] = version.split(" on ")[0].removeprefix("PostgreSQL ")
    return server, ""


def sqlite_query(path: Path, sql: str) -> list[tuple]:
    """`sql`'s rows from the SQLite file at `path`, opened read-only."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


class Workspace:
    """One measurement's temporary directory (under `base`, named `prefix`...) and fresh
    database, migrated on entry; on exit the database is dropped and the directory removed
    (unless `keep`). `name` prefixes its progress lines. Closing twice is harmless."""

    def __init__(self, name: str, backend: str, base: Path, pg: PostgreSQL | None, *,
                 prefix: str, keep: bool = False) -> None:
        self.name = name
        self.backend = backend
        self.pg = pg
        self.keep = keep
        self.dir = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
        self.sqlite_path = self.dir / "regie.db"
        self.database: str | None = None    # the PostgreSQL database's name
        self.url = ""
        self.closed = False

    async def __aenter__(self) -> Workspace:
        try:
            if self.backend == "sqlite":
                self.url = f"sqlite:///{self.sqlite_path}"
            else:
                assert self.pg is not None
                self.database = await self.pg.create()
                self.url = self.pg.url_of(self.database)
            say(f"{self.name}: migrating {self.url.split('@')[-1]}")
            await regie("collector", "migrate", "--db", self.url, cwd=self.dir)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def query(self, sql: str) -> list[tuple]:
        """`sql`'s rows from this workspace's database."""
        if self.backend == "sqlite":
            return sqlite_query(self.sqlite_path, sql)
        assert self.pg is not None and self.database is not None
        return await self.pg.query(self.database, sql)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.database is not None and self.pg is not None:
            try:
                await asyncio.shield(self.pg.drop(self.database))
            except Exception as exc:
                say(f"{self.name}: could not drop database {self.database}: {exc}")
            self.database = None
        if self.keep:
            say(f"{self.name}: kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
