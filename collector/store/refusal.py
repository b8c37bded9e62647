"""Which failures of a write are the data's fault (one request's), not the database's.

The intake commits many requests in one transaction (collector/intake.py). When that fails
because of a value only the database refuses, the requests are applied again one by one so
only the sender of that value is refused; when the database itself is failing (unreachable,
locked, full), retrying each request would only multiply the failures.
"""

from __future__ import annotations

from sqlalchemy.exc import DataError, DBAPIError, SQLAlchemyError, StatementError

# SQLSTATE class 22, "data exception": too long, invalid text or JSON, untranslatable
# character, numeric out of range (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_DATA_EXCEPTION_CLASS = "22"


def refused_value(exc: BaseException) -> bool:
    """True when the database (or its driver) refused a value it was given."""
    if isinstance(exc, UnicodeError | OverflowError | DataError):
        # SQLite's driver raises UnicodeEncodeError itself for a lone surrogate.
        return True
    if isinstance(exc, DBAPIError):
        state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return isinstance(state, str) and state.startswith(_DATA_EXCEPTION_CLASS)
    if isinstance(exc, StatementError):  # a bind parameter that could not be converted
        return isinstance(exc.orig, ValueError | TypeError)
    return False


def may_be_one_request(exc: BaseException) -> bool:
    """Whether a failed group commit is worth retrying request by request: a refused value,
    or an error raised by the data itself rather than by the database or the network."""
    return refused_value(exc) or not isinstance(exc, SQLAlchemyError | OSError | TimeoutError)
