"""The database engine and its schema version: URLs, connection settings, migrations.

The engine is created when the collector starts (`create_engine`), never at import. Its errors
never quote statement parameters (`hide_parameters`): they carry ticket text, labels and
token hashes, and errors end up in logs. SQLite
gets its pragmas on every new connection: WAL (readers never wait for the writer), the
configured `synchronous` level, foreign keys, and a busy timeout so a second writer waits
instead of failing. Write transactions on SQLite start with `BEGIN IMMEDIATE`: a deferred
transaction that reads first and writes later can fail with "database is locked" when another
writer committed in between, and busy_timeout cannot help it
(https://www.sqlite.org/lang_transaction.html). The driver's own transaction handling is
switched off so that this BEGIN, and savepoints, are SQLAlchemy's
(https://docs.sqlalchemy.org/en/21/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl).

The schema belongs to the Alembic migrations in `collector/migrations/`, configured here in
code: `migrate(url)` upgrades to the newest revision, and `check_schema(engine)` refuses to
start a collector whose database is behind (or ahead of) the code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from collector.failure_streak import FailureStreak

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
SQLITE_BUSY_TIMEOUT_MS = 10_000
POSTGRESQL_CONNECT_TIMEOUT_S = 10
POOL_TIMEOUT_S = 10

log = logging.getLogger(__name__)

# Execution option that makes the next transaction on a SQLite connection `BEGIN IMMEDIATE`.
SQLITE_WRITE = "regie_sqlite_write"

_ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


# Where a SchemaError's message names the command that fixes it.
_MIGRATE = "{migrate}"


class SchemaError(RuntimeError):
    """The database schema does not match this code; the message says what to run.

    The store does not know how the command found its installation, so the message names
    `regie collector migrate` plainly; a command line that knows says `with_command(...)`,
    e.g. `regie collector migrate --config /etc/regie/regie.toml` (regie/installation.py
    `migrate_command`), as its other messages do."""

    def __init__(self, template: str) -> None:
        super().__init__(template.replace(_MIGRATE, "regie collector migrate"))
        self.template = template

    def with_command(self, command: str) -> str:
        return self.template.replace(_MIGRATE, command)


class DatabaseUnavailable(SchemaError):
    """The database cannot be reached or opened (no such host, connection refused, a SQLite
    path that is a directory or not a database): its schema cannot even be read. A
    SchemaError so that every command that reports one reports this in one line too."""


def _probe_sqlite(url: URL) -> None:
    """An existing SQLite file that SQLite cannot open (a directory, not a database) refused
    here, before a driver thread is started on it: aiosqlite's thread for a connection that
    failed may outlive the command's event loop and print a traceback of its own."""
    path = url.database
    if url.get_backend_name() != "sqlite" or not path or path == ":memory:" or (
            not os.path.exists(path)):
        return
    try:
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA schema_version")
    except sqlite3.Error as exc:
        raise _unavailable(url, exc) from exc


def _unavailable(url: URL, exc: BaseException) -> DatabaseUnavailable:
    shown = _hidden(url)
    cause = getattr(exc, "orig", None) or exc
    reason = " ".join(str(cause).split())[:300] or type(cause).__name__
    return DatabaseUnavailable(f"cannot open the database {shown[:200]}: {reason}")


def database_url(url: str) -> str:
    """The SQLAlchemy async URL for a configured database URL.

    `sqlite:///regie.db` -> `sqlite+aiosqlite:///regie.db`; `postgresql://` and `postgres://`
    -> `postgresql+asyncpg://`; URLs already naming those drivers are returned unchanged.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(
            f"{url!r} is not a database URL: use sqlite:///PATH or postgresql://USER@HOST/DB"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"{_hidden(parsed)}: unsupported database {backend!r}; "
                         "use sqlite:///PATH or postgresql://USER@HOST/DB")
    wanted = _ASYNC_DRIVERS[backend]
    if driver and driver != wanted:
        raise ValueError(f"{_hidden(parsed)}: driver {driver!r} is not supported; the collector "
                         f"talks to {backend} through {wanted} (write {backend}://...)")
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ValueError(f"{_hidden(parsed)}: the collector needs a database file "
                         "(sqlite:///PATH), not an in-memory database")
    if parsed.drivername == f"{backend}+{wanted}":
        return url
    return parsed.set(drivername=f"{backend}+{wanted}").render_as_string(hide_password=False)


def create_engine(url: str, *, sqlite_synchronous: str = "FULL") -> AsyncEngine:
    """An async engine for `url` (normalised with `database_url`).

    `sqlite_synchronous` is SQLite's durability level: FULL survives a power loss, NORMAL in
    WAL mode only a crash of the process (and writes faster).
    """
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, sqlite_synchronous)
    connect_args: dict[str, Any] = {
        "timeout": POSTGRESQL_CONNECT_TIMEOUT_S,
        "server_settings": {
            "application_name": "regie-collector",
            # asyncpg prepares every statement; after five runs PostgreSQL may switch to a
            # generic plan, which for `dedup_key IN ($1 .. $1000)` filters every active
            # ticket against the whole list (measured: 7 ms -> 230 ms per ingest batch).
            # Planning these statements each time costs well under a millisecond.
            "plan_cache_mode": "force_custom_plan",
        },
    }
    return create_async_engine(parsed, pool_timeout=POOL_TIMEOUT_S, connect_args=connect_args,
                               hide_parameters=True)


def _sqlite_engine(url: URL, synchronous: str) -> AsyncEngine:
    level = synchronous.upper()
    if level not in SQLITE_SYNCHRONOUS:
        # It is written into a PRAGMA: only the known words may pass.
        raise ValueError(f"sqlite synchronous must be one of {', '.join(SQLITE_SYNCHRONOUS)}, "
                         f"not {synchronous!r}")
    engine = create_async_engine(url, pool_timeout=POOL_TIMEOUT_S, hide_parameters=True)
    pragmas = (
        "PRAGMA journal_mode=WAL",
        f"PRAGMA synchronous={level}",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        # Checkpoints run in the background (sqlite_checkpoints), not inside a commit: an
        # automatic checkpoint made the commit that crossed 1,000 WAL pages copy them into
        # the database first (bench/ingest.py at 2,000 alerts/s: p50 82 -> 25 ms, p99 200 ->
        # 86 ms). SQLite still checkpoints when the last connection closes.
        "PRAGMA wal_autocheckpoint=0",
    )
    _SQLITE_PRAGMAS[engine.sync_engine] = pragmas
    sqlite_connection_setup(engine.sync_engine, pragmas)
    return engine


# The pragmas each SQLite engine's connections start with (for its writer thread's engine too,
# collector/store/sqlite_writer.py).
_SQLITE_PRAGMAS: weakref.WeakKeyDictionary[Engine, tuple[str, ...]] = weakref.WeakKeyDictionary()


def sqlite_pragmas_of(engine: AsyncEngine) -> tuple[str, ...]:
    return _SQLITE_PRAGMAS[engine.sync_engine]


def sqlite_connection_setup(sync_engine: Engine, pragmas: tuple[str, ...]) -> None:
    """On a SQLite engine: `pragmas` on every new connection, and SQLAlchemy's own BEGIN
    (`BEGIN IMMEDIATE` for a write transaction) instead of the driver's."""

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (below), not the driver
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(SQLITE_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextlib.asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction that will write: committed at the end, rolled back on error.

    On SQLite it takes the write lock up front (waiting up to the busy timeout for another
    writer), so what it read cannot change before it writes.
    """
    lock = sqlite_writer_queue(engine)
    async with (lock if lock is not None else contextlib.nullcontext(),
                engine.connect() as connection):
        await connection.execution_options(**{SQLITE_WRITE: True})
        info = connection.sync_connection.info
        info.pop(WROTE, None)
        async with connection.begin():
            yield connection
        if info.pop(WROTE, False):
            committed(engine)


async def probe(engine: AsyncEngine) -> None:
    """Raise (as the driver does) unless the database answers and, on SQLite, a write commits.

    SQLite reads keep working on a full disk or a read-only file; only a commit shows that
    writing works. The probe rewrites the header's application field (`PRAGMA user_version`,
    which Regie does not use) with its own value: one page through the WAL, nothing changed.
    """
    if engine.dialect.name != "sqlite":
        async with engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
        return
    async with write_transaction(engine) as connection:
        version = int((await connection.exec_driver_sql("PRAGMA user_version")).scalar_one())
        await connection.exec_driver_sql(f"PRAGMA user_version = {version}")
        connection.sync_connection.info[WROTE] = True


def observe(engine: AsyncEngine, *, answered: Callable[[], None],
            committed: Callable[[], None]) -> None:
    """Call `answered()` after each statement the database answered, and `committed()` after
    each write transaction that committed a change (a probe's write included).

    How a failure streak (collector/failure_streak.py) learns that the database is back, or
    that writing works again: reads go on working on a full disk, and a transaction that
    changed nothing writes nothing.
    """

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _executed(*_args: Any) -> None:
        answered()

    track_writes(engine.sync_engine)
    _ANSWER_OBSERVERS.setdefault(engine.sync_engine, []).append(answered)
    _COMMIT_OBSERVERS.setdefault(engine.sync_engine, []).append(committed)


def track_writes(sync_engine: Engine) -> None:
    """Record on a connection (for `write_transaction`'s commit and the SQLite writer's) that
    its transaction changed rows, whenever a statement run through `sync_engine` did."""

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _wrote(connection: Connection, cursor: Any, _statement: str, _parameters: Any,
               context: Any, _executemany: bool) -> None:
        if (context is not None and (context.isinsert or context.isupdate or context.isdelete)
                and cursor.rowcount != 0):
            connection.info[WROTE] = True


def answered(engine: AsyncEngine) -> None:
    """Tell `observe`'s callers that the database answered statements run outside this
    engine's connections (the SQLite writer thread's, collector/store/sqlite_writer.py)."""
    for callback in _ANSWER_OBSERVERS.get(engine.sync_engine, ()):
        callback()


def committed(engine: AsyncEngine) -> None:
    """... and that such a transaction committed a change."""
    for callback in _COMMIT_OBSERVERS.get(engine.sync_engine, ()):
        callback()


def wrote(connection: AsyncConnection) -> None:
    """Record that this transaction changed a row with a statement run on the driver directly
    (collector/store/sqlite_bulk.py), which `observe` does not see."""
    connection.sync_connection.info[WROTE] = True


# Set on a connection's info when its transaction changed a row (observe); read at commit.
WROTE = "regie_wrote"
_COMMIT_OBSERVERS: weakref.WeakKeyDictionary[Engine, list[Callable[[], None]]] = (
    weakref.WeakKeyDictionary())
_ANSWER_OBSERVERS: weakref.WeakKeyDictionary[Engine, list[Callable[[], None]]] = (
    weakref.WeakKeyDictionary())


# One writer at a time per SQLite engine, queued in this process. SQLite has one write lock
# anyway; without this queue, waiting writers sleep in its busy handler (up to 100 ms a try)
# while the lock sits free between them, and some wait seconds (bench/ingest.py: p99 2.9 s
# under load, 258 ms with the queue). Other processes still meet busy_timeout.
_WRITER_QUEUES: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


def sqlite_writer_queue(engine: AsyncEngine) -> asyncio.Lock | None:
    if engine.dialect.name != "sqlite":
        return None
    return _WRITER_QUEUES.setdefault(engine.sync_engine, asyncio.Lock())


async def sqlite_checkpoints(engine: AsyncEngine, *, interval_seconds: float = 1.0) -> None:
    """Copy the WAL into the database every `interval_seconds`, until cancelled (SQLite only).

    PASSIVE: it never waits for readers or writers, and does what it can; what it cannot
    (frames a reader still needs) waits for the next round.
    """
    # A full disk fails every round, each second: logged when it starts and when it ends.
    failures = FailureStreak("SQLite WAL checkpoint", log)
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            async with engine.connect() as connection:
                await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception as exc:  # a failed round must not end checkpointing for good
            failures.failed(exc)
        else:
            failures.succeeded()


def alembic_config(url: str) -> Config:
    """The Alembic configuration for `url`, built in code (no alembic.ini).

    Usable with `alembic.command` directly, e.g. to write a new revision:
    `command.revision(alembic_config(url), message="...", autogenerate=True)`.
    """
    config = _base_config()
    # Passed as an attribute, not as sqlalchemy.url: ConfigParser would interpolate a `%` in a
    # password.
    config.attributes["url"] = database_url(url)
    return config


def head_revision() -> str:
    """The schema revision this code needs."""
    return _head(_script())


def _base_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_base_config())


def _head(script: ScriptDirectory) -> str:
    heads = script.get_heads()
    if len(heads) != 1:  # a packaging mistake, not something an operator can fix
        raise RuntimeError(f"collector/migrations has {len(heads)} heads: {', '.join(heads)}")
    return heads[0]


def migrate(url: str) -> str:
    """Create or upgrade the schema at `url` to the newest revision; returns that revision.

    Synchronous (the `regie collector migrate` command): Alembic runs the migrations on the
    async engine in its own event loop. From async code, call it in a thread
    (`await asyncio.to_thread(migrate, url)`).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass  # no loop in this thread: Alembic's env.py can run one
    else:
        raise RuntimeError("migrate() runs its own event loop: call it outside one, or use "
                           "`await asyncio.to_thread(migrate, url)`")
    _create_private_sqlite_file(url)
    parsed = make_url(database_url(url))
    _probe_sqlite(parsed)
    try:
        command.upgrade(alembic_config(url), "head")
    except (OSError, DBAPIError) as exc:
        raise _unavailable(parsed, exc) from exc
    return head_revision()


def _create_private_sqlite_file(url: str) -> None:
    """Create a new SQLite database file readable by its owner only (0600, whatever the umask)
    before SQLite opens it: it holds tickets, token hashes and contact data. SQLite gives the
    -wal and -shm files it creates the database file's permissions."""
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    # An existing database keeps the mode its operator gave it; any other error (no such
    # directory, no permission) SQLite reports when it opens the file, as it always did.
    with contextlib.suppress(OSError):
        os.close(os.open(parsed.database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


async def open_checked(url: str, problem: type[Exception]) -> AsyncEngine:
    """An engine on the database `url` names, once its schema is this code's revision: what
    the reading commands open. A malformed URL, or a database without the schema, raises
    `problem` with the reason (check_schema's says what to run)."""
    try:
        engine = create_engine(database_url(url))
    except ValueError as exc:
        raise problem(f"database.url: {exc}") from None
    try:
        await check_schema(engine)
    except SchemaError as exc:
        await engine.dispose()
        raise problem(str(exc)) from exc
    return engine


async def check_schema(engine: AsyncEngine) -> None:
    """Raise SchemaError (saying what to run) unless the database is at this code's revision."""
    script = _script()
    head = _head(script)
    _probe_sqlite(engine.url)
    try:
        async with engine.connect() as connection:
            current, tables = await connection.run_sync(_current_revision)
    except (OSError, DBAPIError) as exc:   # TimeoutError is an OSError
        raise _unavailable(engine.url, exc) from exc
    fix = f"run `{_MIGRATE}`"
    if not current:
        if tables:
            raise SchemaError(f"database has tables ({', '.join(sorted(tables)[:5])}) but no "
                              f"Regie schema revision: point the collector at its own "
                              f"database, or {fix} on an empty one")
        raise SchemaError(f"database has no Regie schema: {fix}")
    if current == (head,):
        return
    known = {revision.revision for revision in script.walk_revisions()}
    shown = ", ".join(current)
    unknown = [revision for revision in current if revision not in known]
    if unknown:
        raise SchemaError(
            f"database schema is at revision {shown}, which this version of Regie does not know "
            f"(migrated by a newer Regie?); this code needs {head}: run the newer Regie, or "
            f"use a database at revision {head}")
    raise SchemaError(f"database schema is at revision {shown} but this code needs {head}: "
                      f"{fix}")


def _current_revision(connection: Connection) -> tuple[tuple[str, ...], list[str]]:
    heads = MigrationContext.configure(connection).get_current_heads()
    tables = [] if heads else [name for name in inspect(connection).get_table_names()
                               if name != "alembic_version"]  # left empty by a downgrade
    return heads, tables


def _hidden(url: URL) -> str:
    """A URL for messages, as an operator writes it: no driver name, and no password (the
    operator knows it, logs need not)."""
    shown = URL.create(url.get_backend_name(), username=url.username, host=url.host,
                       port=url.port, database=url.database, query=url.query)
    return shown.render_as_string(hide_password=False)
