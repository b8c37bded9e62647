"""Which failures of a write are the data's fault (one request's), not the database's.

The intake commits many requests in one transaction (collector/intake.py). When that fails
because of a value only the database refuses, the requests are applied again one by one so
only the sender of that value is refused; when the database itself is failing (unreachable,
locked, full), retrying each request would only multiply the failures.
"""

from __future__ import annotations

from sqlalchemy.exc import DataError, DBAPIError, SQLAlchemyError, StatementError

# SQLSTATE class 22, "data exception": every code of it is a value's fault, among them 22001
# string_data_right_truncation, 22003 numeric_value_out_of_range, 22008 datetime_field_overflow,
# 22021 character_not_in_repertoire, 22P02 invalid_text_representation, 22P05
# untranslatable_character (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_DATA_EXCEPTION_CLASS = "22"
# Of class 54, "program limit exceeded", only 54000 is a value's size: "index row size exceeds
# btree maximum" (a key over ~2,700 bytes in a unique index), "row is too big", a string or
# JSON value over 1 GB. The others are the shape of a statement the collector wrote (54001
# statement_too_complex, 54011 too_many_columns, 54023 too_many_arguments): a sender's
# request cannot cause them, so they stay the database's (500) and show the bug.
_VALUE_TOO_LARGE = "54000"


def refused_value(exc: BaseException) -> bool:
    """True when the database (or its driver) refused a value it was given."""
    if isinstance(exc, UnicodeError | OverflowError | DataError):
        # SQLite's driver raises UnicodeEncodeError itself for a lone surrogate.
        return True
    if isinstance(exc, DBAPIError):
        state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return isinstance(state, str) and (state.startswith(_DATA_EXCEPTION_CLASS)
                                            or state == _VALUE_TOO_LARGE)
    if isinstance(exc, StatementError):  # a bind parameter that could not be converted
        return isinstance(exc.orig, ValueError | TypeError)
    return False


def may_be_one_request(exc: BaseException) -> bool:
    """Whether a failed group commit is worth retrying request by request: a refused value,
    or an error raised by the data itself rather than by the database or the network."""
    return refused_value(exc) or not isinstance(exc, SQLAlchemyError | OSError | TimeoutError)
