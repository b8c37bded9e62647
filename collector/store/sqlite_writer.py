"""SQLite: an ingested batch's whole write transaction run on one thread, in one hand-over.

Through the async engine (aiosqlite) every statement is a trip to the driver's thread and back:
BEGIN, each read (open a cursor, execute, fetch, close), each bulk write, COMMIT and the pool's
reset, about 24 hand-overs for one group of requests, each a thread wake-up on both sides and a
turn of the event loop (bench/README.md). Here the group's transaction (BEGIN IMMEDIATE, the
batch's reads, its logic in memory, its writes, COMMIT) runs as one call on a thread of its
own, on a connection of its own (the standard library's sqlite3 through SQLAlchemy's
synchronous engine, with the same pragmas and the same `BEGIN IMMEDIATE` as the async engine),
while the event loop goes on parsing the next requests. SQLite releases the GIL while it works.

The batch's code is the one `SignalBatch` both backends run (signal_batch.py): its coroutine is
run to its end on that thread over `ThreadConnection`, whose `execute` never suspends, so the
coroutine finishes in one step (`run_to_end` refuses one that would wait for something).

One writer at a time still: the call holds the same in-process writer queue as
`write_transaction` (engine.py), so the async engine's writers and this one take turns, and
other processes meet SQLite's busy timeout as before. What the batch's callbacks read (the
assessment's memo, the registry's end-of-support answers, the maintenance windows) is read on
that thread while the event loop may replace it: each is replaced whole, never changed in
place while a batch runs, and only this one thread runs batches.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from collector.store import engine as engines

T = TypeVar("T")


class ThreadConnection:
    """What `SignalBatch` needs of an AsyncConnection, over a synchronous Connection: its
    statements run at once on the calling thread."""

    __slots__ = ("dialect", "sync_connection")

    def __init__(self, connection: Connection) -> None:
        self.sync_connection = connection
        self.dialect = connection.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        return self.sync_connection.execute(statement, parameters)


def run_to_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that never waits (its awaits are all `ThreadConnection`'s)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("a batch run on the SQLite writer thread waited for something")


class SqliteWriter:
    """The write transactions of one async SQLite engine's intake, on one thread."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._async_engine = weakref.ref(engine)
        url = engine.url.set(drivername="sqlite+pysqlite")
        # One connection, used by the one thread; created there, closed by dispose (any
        # thread: hence check_same_thread off, the pool and the queue keep it to one user).
        self.engine: Engine = create_engine(url, pool_size=1, max_overflow=0,
                                            pool_timeout=engines.POOL_TIMEOUT_S,
                                            hide_parameters=True,
                                            connect_args={"check_same_thread": False})
        engines.sqlite_connection_setup(self.engine, engines.sqlite_pragmas_of(engine))
        engines.track_writes(self.engine)

        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="regie-sqlite-writer")

    async def run(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` inside one write transaction on the writer thread: committed
        when it returns, rolled back when it raises (and the exception raised here)."""
        engine = self._async_engine()
        if engine is None:
            raise RuntimeError("the SQLite engine of this writer is gone")
        loop = asyncio.get_running_loop()
        async with engines.sqlite_writer_queue(engine):
            running = loop.run_in_executor(self._executor, self._transaction, work)
            try:
                result, wrote = await asyncio.shield(running)
            except asyncio.CancelledError:
                # The transaction goes on in its thread: the queue is held until it ends.
                await asyncio.wait([running])
                raise
        engines.answered(engine)
        if wrote:
            engines.committed(engine)
        return result

    def _transaction(self, work: Callable[[Connection], T]) -> tuple[T, bool]:
        with self.engine.connect() as connection:
            connection = connection.execution_options(**{engines.SQLITE_WRITE: True})
            connection.info.pop(engines.WROTE, None)
            with connection.begin():
                result = work(connection)
            return result, bool(connection.info.pop(engines.WROTE, False))

    def dispose(self) -> None:
        """Close its connection (a new one opens when it is next used)."""
        self.engine.dispose()


_WRITERS: weakref.WeakKeyDictionary[Engine, SqliteWriter] = weakref.WeakKeyDictionary()


def sqlite_writer(engine: AsyncEngine) -> SqliteWriter:
    """The writer of this SQLite engine: made on first use, its connection closed when the
    engine is disposed."""
    writer = _WRITERS.get(engine.sync_engine)
    if writer is None:
        writer = _WRITERS[engine.sync_engine] = SqliteWriter(engine)
        event.listen(engine.sync_engine, "engine_disposed", lambda _engine: writer.dispose())
    return writer


def engines_of(engine: AsyncEngine) -> tuple[Engine, ...]:
    """The synchronous engines that run `engine`'s statements: its own, and its SQLite
    writer's once it has one (for listening to every statement, e.g. in tests)."""
    writer = _WRITERS.get(engine.sync_engine)
    return (engine.sync_engine,) if writer is None else (engine.sync_engine, writer.engine)
