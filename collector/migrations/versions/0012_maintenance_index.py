"""The active tickets held by a maintenance window, as a partial index; absent windows stored
as SQL NULL (not JSON null), so the index's predicate leaves them out.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As collector/store/models.py writes it (the migration keeps its own copy: models change).
HELD_PREDICATE = "maintenance IS NOT NULL AND status IN ('open', 'acknowledged')"


def upgrade() -> None:
    # Tickets written before this revision kept "no window" as JSON null.
    null = "'null'::jsonb" if op.get_bind().dialect.name == "postgresql" else "'null'"
    op.execute(f"UPDATE tickets SET maintenance = NULL WHERE maintenance = {null}")  # noqa: S608
    op.create_index("ix_tickets_held", "tickets", ["id"],
                    sqlite_where=sa.text(HELD_PREDICATE),
                    postgresql_where=sa.text(HELD_PREDICATE))


def downgrade() -> None:
    op.drop_index("ix_tickets_held", table_name="tickets")
