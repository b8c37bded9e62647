"""SQLite: a batch's bulk writes with their parameters processed once per value, in one pass.

SQLAlchemy prepares an executemany row by row: for each row it builds the parameter mapping,
looks up each value's bind processor and copies the row into the driver's form (and for an
INSERT ... RETURNING of many rows, it also renders the multi-row statement for each call).
On a 100-alert ingest batch that bookkeeping cost more CPU than SQLite's own work for the
rows (bench/README.md). Here the statement is compiled once per column set, its processors
(the same ones SQLAlchemy would call: times as UTC text, enums as values, JSON as text) are
applied in a list comprehension per column, and the rows go to the driver as tuples:
`executemany` for plain statements, one multi-row `VALUES` statement (up to SQLite's
parameter limit) for an INSERT whose RETURNING rows are wanted in no particular order.

The statements go to the driver's connection (aiosqlite) directly, inside the transaction
SQLAlchemy began on it: one hand-over to SQLite's thread each (execute and fetch together).
Through SQLAlchemy's cursor adapter a statement took four (open a cursor, execute, fetch,
close), each a thread wake-up and a GIL hand-over, about 100 µs of CPU on a busy 2-CPU
machine (bench/README.md). SQLite's errors are raised as SQLAlchemy's (hidden parameters),
as when SQLAlchemy ran the statement, and a write that changed rows is recorded for the
engine's commit observers (engine.wrote).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from collector.store.engine import wrote

if TYPE_CHECKING:
    from collector.store.sqlite_writer import ThreadConnection

# SQLite's bound on parameters in one statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
MAX_PARAMETERS = 32_766


@dataclass(frozen=True, slots=True)
class _Prepared:
    sql: str
    names: tuple[str, ...]                               # parameters, in position order
    processors: tuple[Callable[[Any], Any] | None, ...]
    returning: bool
    values_group: str                                    # "(?, ?, ...)" of an INSERT
    head: str                                            # the SQL before and after it
    tail: str


@functools.lru_cache(maxsize=64)
def _prepare(statement: Executable, keys: tuple[str, ...], dialect: Dialect) -> _Prepared:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    sql = str(compiled)
    names = tuple(compiled.positiontup or ())
    processors = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                       for name in names)
    group = "(" + ", ".join("?" * len(names)) + ")"
    head, found, tail = sql.partition(f" VALUES {group}")
    return _Prepared(sql, names, processors, bool(compiled.effective_returning), group,
                     head if found else "", tail)


def _tuples(prepared: _Prepared, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    columns = []
    for name, process in zip(prepared.names, prepared.processors, strict=True):
        values = [row[name] for row in rows]
        if process is None:
            columns.append(values)
            continue
        # Many columns hold one value in every row (the batch's `now` in updated_at and the
        # timeline's times, None in the rest): processed once (a time's UTC text costs ~2 µs).
        first = values[0]
        if all(v is first for v in values):
            columns.append([process(first)] * len(values))
        else:
            columns.append([process(v) for v in values])
    return list(zip(*columns, strict=True)) if columns else [() for _ in rows]


async def execute(connection: AsyncConnection | ThreadConnection, statement: Executable,
                  rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """Run `statement` for `rows` (same keys each) on SQLite, in the connection's transaction;
    its RETURNING rows, if any, as tuples in no particular order."""
    if not rows:
        return []
    dialect = connection.dialect
    prepared = _prepare(statement, tuple(rows[0]), dialect)
    params = _tuples(prepared, rows)
    driver = connection.sync_connection.connection.driver_connection
    # The standard library's connection on the writer thread (sqlite_writer.py), or
    # aiosqlite's, whose calls are handed to its thread.
    direct = isinstance(driver, sqlite3.Connection)
    if not prepared.returning:
        try:
            if direct:
                changed = driver.executemany(prepared.sql, params).rowcount
            else:
                changed = (await driver.executemany(prepared.sql, params)).rowcount
        except sqlite3.Error as exc:
            raise _as_sqlalchemy(prepared.sql, exc, dialect) from exc
        if changed:
            wrote(connection)
        return []
    if not prepared.head:
        raise ValueError("RETURNING from many rows needs an INSERT ... VALUES statement")
    found: list[tuple[Any, ...]] = []
    per_statement = max(1, MAX_PARAMETERS // max(1, len(prepared.names)))
    for start in range(0, len(params), per_statement):
        chunk = params[start:start + per_statement]
        sql = (f"{prepared.head} VALUES {', '.join([prepared.values_group] * len(chunk))}"
               f"{prepared.tail}")
        try:
            values = [v for row in chunk for v in row]
            if direct:
                found.extend(driver.execute(sql, values).fetchall())
            else:
                found.extend(await driver.execute_fetchall(sql, values))
        except sqlite3.Error as exc:
            raise _as_sqlalchemy(sql, exc, dialect) from exc
    if found:
        wrote(connection)
    return found


def _as_sqlalchemy(sql: str, exc: sqlite3.Error, dialect: Dialect) -> BaseException:
    """The exception SQLAlchemy raises for `exc` (its DBAPIError subclass of the same name:
    OperationalError, IntegrityError, ...), its parameters hidden as the engine hides them."""
    return DBAPIError.instance(sql, None, exc, sqlite3.Error, hide_parameters=True,
                               dialect=dialect)
