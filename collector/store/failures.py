"""Which database failures are the database's condition, not a bug: unreachable or full.

`failure_of(exc)` reads an exception raised by a store call (SQLAlchemy's wrapper, the driver's
own error, or the OSError under both) and answers `StoreFailure.UNAVAILABLE` (the server is
down, restarting, refusing connections, or SQLite's file is locked: retrying later helps),
`StoreFailure.DISK_FULL` (nothing more can be written until space is freed), or None (any
other error: a bug, answered as such). The HTTP answer to each is chosen in collector/app.py.

Codes used:
- SQLite result codes (https://www.sqlite.org/rescode.html): SQLITE_FULL (13) is a full disk
  (or `max_page_count` reached); BUSY, LOCKED, IOERR, CANTOPEN, PROTOCOL mean the file is not
  usable right now.
- PostgreSQL SQLSTATE (https://www.postgresql.org/docs/current/errcodes-appendix.html): 53100
  disk_full; class 08 (connection exception), 57P01-57P03 (shutdown, crash recovery, not yet
  accepting connections), 53300 too_many_connections, and transient conflicts a retry
  resolves (40001, 40P01, 55P03, 57014).
- errno ENOSPC / EDQUOT for a full disk from the operating system; any other OSError under a
  database call (connection refused or reset, a timeout) is unavailability.
"""

from __future__ import annotations

import enum
import errno

from sqlalchemy import exc as sa_exc


class StoreFailure(enum.Enum):
    UNAVAILABLE = "database unavailable"
    DISK_FULL = "database disk full"


_SQLITE_FULL = 13
_SQLITE_UNAVAILABLE = {5, 6, 10, 14, 15}  # BUSY, LOCKED, IOERR, CANTOPEN, PROTOCOL
_PG_DISK_FULL = "53100"
_PG_UNAVAILABLE_CLASSES = ("08",)
# Shutdown, crash recovery, not yet accepting connections, too many connections; and the
# transient conflicts a retry resolves (serialization failure, deadlock, lock not available,
# statement timeout).
_PG_UNAVAILABLE = {"57P01", "57P02", "57P03", "53300", "40001", "40P01", "55P03", "57014"}
_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
# SQLAlchemy's own words for "could not talk to the database" (pool timeout, lost connection).
_SA_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                   sa_exc.TimeoutError)
_MAX_CHAIN = 16


def failure_of(error: BaseException) -> StoreFailure | None:
    """The database condition behind `error`, or None when it is not one (see the module).

    A SQLite result code or a SQLSTATE decides when the chain has one (SQLAlchemy calls a
    missing table an OperationalError too, and that is a bug, not an outage); otherwise the
    exception types do.
    """
    chain = _chain(error)
    if any(_disk_full(link) for link in chain):
        return StoreFailure.DISK_FULL
    coded = [link for link in chain if _code(link) is not None]
    if coded:
        return StoreFailure.UNAVAILABLE if any(map(_coded_unavailable, coded)) else None
    if any(map(_unavailable_type, chain)):
        return StoreFailure.UNAVAILABLE
    return None


def _chain(error: BaseException) -> list[BaseException]:
    """`error`, the driver error SQLAlchemy wrapped (`.orig`), and their causes and contexts."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo and len(seen) < _MAX_CHAIN:
        link = todo.pop()
        if link is None or any(link is s for s in seen):
            continue
        seen.append(link)
        todo += [getattr(link, "orig", None), link.__cause__, link.__context__]
    return seen


def _disk_full(error: BaseException) -> bool:
    return (getattr(error, "sqlite_errorcode", None) == _SQLITE_FULL
            or getattr(error, "sqlstate", None) == _PG_DISK_FULL
            or (isinstance(error, OSError) and error.errno in _DISK_FULL_ERRNOS))


def _code(error: BaseException) -> int | str | None:
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code
    state = getattr(error, "sqlstate", None)
    return state if isinstance(state, str) and state else None


def _coded_unavailable(error: BaseException) -> bool:
    code = _code(error)
    if isinstance(code, int):
        return (code & 0xFF) in _SQLITE_UNAVAILABLE  # extended codes keep the primary in 8 bits
    return code in _PG_UNAVAILABLE or str(code).startswith(_PG_UNAVAILABLE_CLASSES)


def _unavailable_type(error: BaseException) -> bool:
    if isinstance(error, (OSError, *_SA_UNAVAILABLE)):
        return True
    # asyncpg's "connection is closed" / "connection was closed in the middle of operation"
    # carry no SQLSTATE; import it only when asyncpg is what raised.
    if type(error).__module__.startswith("asyncpg"):
        import asyncpg

        return isinstance(error, (asyncpg.InterfaceError, asyncpg.PostgresConnectionError))
    return False
