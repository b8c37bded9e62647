"""INSERT that skips a row whose unique key is already taken (`ON CONFLICT ... DO NOTHING`).

The database, not a read-before-write, decides who wins when two requests (or two collector
processes) insert the same key at once; the loser sees no row in RETURNING and no error.
Both SQLite and PostgreSQL spell it the same way, but SQLAlchemy builds it per dialect.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def insert_or_skip(dialect_name: str, table: Table, *, index_elements: Sequence[str],
                   index_where: ColumnElement[bool] | None = None) -> Insert:
    """`INSERT INTO table ... ON CONFLICT (index_elements) [WHERE index_where] DO NOTHING`.

    `index_where` names a partial unique index: it must repeat the index's predicate.
    """
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(
            index_elements=list(index_elements), index_where=index_where)
    if dialect_name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(
            index_elements=list(index_elements), index_where=index_where)
    raise ValueError(f"no ON CONFLICT support for {dialect_name!r}")
