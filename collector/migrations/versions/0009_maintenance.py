"""Maintenance windows, and the window a ticket fired in.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _document(name: str, comment: str, *, nullable: bool = False) -> sa.Column:
    kind = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    return sa.Column(name, kind, nullable=nullable, comment=comment)


def upgrade() -> None:
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False,
                  comment="What the window is for, shown on tickets."),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False,
                  comment="Start of the (first) occurrence; a recurrence counts from here."),
        sa.Column("duration_seconds", sa.Integer(), nullable=False,
                  comment="How long each occurrence lasts."),
        sa.Column("rrule", sa.Text(), nullable=True,
                  comment="RFC 5545 recurrence rule (RRULE), NULL for a one-off window."),
        sa.Column("timezone", sa.String(64), nullable=False,
                  comment="IANA time zone the recurrence is computed in (DST-correct)."),
        _document("hosts", "Host names or globs."),
        _document("services", "Service names."),
        _document("matchers",
                  "Label matchers in Alertmanager's syntax (name=\"value\", =~ ...)."),
        sa.Column("comment", sa.Text(), nullable=False, comment="Why; free text."),
        sa.Column("created_by", sa.String(255), nullable=False, comment="Who added it."),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  comment="When it was added."),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True,
                  comment="When it was ended by hand (no occurrence counts after); NULL "
                          "otherwise."),
        sa.Column("ended_by", sa.String(255), nullable=True, comment="Who ended it."),
        sa.PrimaryKeyConstraint("id", name="pk_maintenance_windows"),
        comment="Maintenance windows: alerts on their scope are recorded but do not page.",
    )
    op.create_index("ix_maintenance_windows_ended_at", "maintenance_windows", ["ended_at"])
    op.add_column("tickets", _document(
        "maintenance", "The maintenance window it fired in ({window, name, start, end}): its "
                       "escalation was held; NULL outside maintenance.", nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("maintenance")
    op.drop_index("ix_maintenance_windows_ended_at", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
