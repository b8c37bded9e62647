"""collector/store/failures.py tells the database's condition (unreachable, full) from a bug,
and collector/failure_streak.py logs a streak of them once.

The SQLite errors are real: a database file capped with `max_page_count` (SQLite's own "full"
answer, SQLITE_FULL), a second writer on a locked file, a missing table. PostgreSQL's are the
driver's exception classes with their SQLSTATEs, as asyncpg raises them, wrapped the way
SQLAlchemy wraps them; an outage of a real server is tests/collector/test_outage.py.
"""

from __future__ import annotations

import errno
import logging
import sqlite3

import asyncpg.exceptions as pg
import pytest
from sqlalchemy import exc as sa

from collector.failure_streak import FailureStreak
from collector.store.failures import StoreFailure, failure_of

FULL, DOWN = StoreFailure.DISK_FULL, StoreFailure.UNAVAILABLE


def sqlite_error(tmp_path, what: str) -> sqlite3.Error:
    path = tmp_path / "x.db"
    first = sqlite3.connect(path, isolation_level=None, timeout=0)
    first.execute("CREATE TABLE t (x TEXT)")
    try:
        if what == "full":
            first.execute("PRAGMA max_page_count = 2")
            first.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
        elif what == "locked":
            first.execute("BEGIN IMMEDIATE")
            second = sqlite3.connect(path, isolation_level=None, timeout=0)
            second.execute("BEGIN IMMEDIATE")
        else:
            first.execute("SELECT * FROM missing")
    except sqlite3.Error as exc:
        return exc
    raise AssertionError(f"no error for {what}")


def wrapped(error: BaseException) -> sa.DBAPIError:
    """As SQLAlchemy raises a driver's error: a DBAPIError subclass with `.orig`, chained."""
    kind = sa.OperationalError if not isinstance(error, sqlite3.Error) else (
        sa.OperationalError if isinstance(error, sqlite3.OperationalError) else sa.DBAPIError)
    try:
        raise kind("SELECT 1", None, error) from error  # type: ignore[arg-type]
    except sa.DBAPIError as exc:
        return exc


@pytest.mark.parametrize(("what", "kind"), [("full", FULL), ("locked", DOWN), ("bug", None)])
def test_sqlite(tmp_path, what, kind):
    error = sqlite_error(tmp_path, what)
    assert failure_of(error) is kind
    # SQLAlchemy calls a missing table an OperationalError too; the SQLite code decides.
    assert failure_of(wrapped(error)) is kind


@pytest.mark.parametrize(("error", "kind"), [
    (pg.DiskFullError("could not extend file"), FULL),
    (pg.CannotConnectNowError("the database system is starting up"), DOWN),
    (pg.AdminShutdownError("terminating connection due to administrator command"), DOWN),
    (pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"), DOWN),
    (pg.TooManyConnectionsError("sorry, too many clients already"), DOWN),
    (pg.SerializationError("could not serialize access"), DOWN),
    (pg.UndefinedTableError('relation "x" does not exist'), None),
    (pg.CharacterNotInRepertoireError("invalid byte sequence for encoding UTF8: 0x00"), None),
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"), DOWN),
    (TimeoutError(), DOWN),
    (OSError(errno.ENOSPC, "No space left on device"), FULL),
    (sa.TimeoutError("QueuePool limit reached"), DOWN),
])
def test_postgresql_and_os(error, kind):
    assert failure_of(error) is kind
    assert failure_of(wrapped(error)) is kind


@pytest.mark.parametrize("error", [ValueError("a bug"), KeyError("a bug"), TypeError("a bug")])
def test_not_a_database_condition(error):
    assert failure_of(error) is None


def test_interface_error_without_sqlstate():
    """asyncpg's InterfaceError ("connection is closed") carries no SQLSTATE."""
    assert failure_of(pg.InterfaceError("cannot perform operation: connection is closed")) is DOWN


def test_cause_chain_is_followed():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("write failed") from inner
    except RuntimeError as outer:
        assert failure_of(outer) is FULL


def test_streak_logs_first_failure_and_recovery_once(caplog):
    now = [100.0]
    streak = FailureStreak("database unavailable", logging.getLogger("test.streak"),
                           clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="test.streak")
    streak.succeeded()                     # nothing failing: nothing to say
    for i in range(2000):
        try:
            raise ConnectionRefusedError(errno.ECONNREFUSED, f"refused {i}")
        except ConnectionRefusedError as exc:
            streak.failed(exc)
    assert streak.failing
    now[0] = 108.25
    streak.succeeded()
    streak.succeeded()
    records = [(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert records == [
        ("ERROR", "database unavailable: ConnectionRefusedError: [Errno 111] refused 0 "
                  "(further failures are counted until it recovers)", True),
        ("WARNING", "database unavailable: recovered after 2000 failure(s) in 8.2s", False),
    ]
    assert not streak.failing
