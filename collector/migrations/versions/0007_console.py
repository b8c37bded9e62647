"""The operator console: server-side sessions, and the queue's order as an index.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As collector/store/models.py writes it (the migration keeps its own copy: models change).
CORRELATED_PREDICATE = "status IN ('open', 'acknowledged') AND parent_id IS NULL"


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False,
                  comment="SHA-256 of the session cookie; the cookie itself is not kept."),
        sa.Column("token_id", sa.Integer(), nullable=False,
                  comment="The token the person logged in with: their rights."),
        sa.Column("csrf", sa.String(64), nullable=False,
                  comment="The session's anti-forgery token."),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  comment="When the person logged in."),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False,
                  comment="When the session ends."),
        sa.ForeignKeyConstraint(["token_id"], ["tokens.id"],
                                name="fk_console_sessions_token_id_tokens"),
        sa.PrimaryKeyConstraint("id_hash", name="pk_console_sessions"),
        comment="Logged-in console sessions (only the hash of each session cookie).",
    )
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
    op.create_index("ix_tickets_queue", "tickets", ["priority", "created_at", "id"],
                    sqlite_where=sa.text(CORRELATED_PREDICATE),
                    postgresql_where=sa.text(CORRELATED_PREDICATE))


def downgrade() -> None:
    op.drop_index("ix_tickets_queue", table_name="tickets")
    op.drop_index("ix_console_sessions_expires_at", table_name="console_sessions")
    op.drop_table("console_sessions")
