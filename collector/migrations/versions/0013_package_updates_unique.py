"""One pending history entry per host, package, architecture and candidate version: a partial
unique index in place of the per-host one (its first column is still the host), so two
collectors storing pushes of one host at once cannot both record the same offered update.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As collector/store/models.py writes it (the migration keeps its own copy: models change).
OPEN = "installed_at IS NULL AND withdrawn_at IS NULL"
KEY = ["host", "manager", "package", "architecture", "version"]


def upgrade() -> None:
    # Keep the first of any pending duplicates written before (the index would refuse them).
    op.execute("DELETE FROM package_updates "
               "WHERE installed_at IS NULL AND withdrawn_at IS NULL AND id NOT IN ("
               "SELECT min(id) FROM package_updates "
               "WHERE installed_at IS NULL AND withdrawn_at IS NULL "
               "GROUP BY host, manager, package, architecture, version)")
    op.drop_index("ix_package_updates_open_host", table_name="package_updates")
    op.create_index("uq_package_updates_open", "package_updates", KEY, unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index("uq_package_updates_open", table_name="package_updates")
    op.create_index("ix_package_updates_open_host", "package_updates", ["host"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
