"""Index the inhibition lookup; analyse the tickets table sooner on PostgreSQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Every ingested batch asks for the open host-down tickets of its hosts. Without this partial
index that read walked every open ticket (bench/ingest.py: 9.5 ms per batch on SQLite and
69 ms on PostgreSQL at 48k open tickets; 0.03-0.07 ms with it). On PostgreSQL the tickets
table is also analysed after 2% growth instead of the default 10%, so an alert storm on a
young table does not run long on plans made for an empty one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('open', 'acknowledged')"


def upgrade() -> None:
    op.create_index(
        "ix_tickets_active_host_down", "tickets", ["host"],
        sqlite_where=sa.text(f"host_down IS 1 AND parent_id IS NULL AND {ACTIVE}"),
        postgresql_where=sa.text(f"host_down IS true AND parent_id IS NULL AND {ACTIVE}"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE tickets SET (autovacuum_analyze_scale_factor = 0.02, "
                   "autovacuum_analyze_threshold = 200)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE tickets RESET (autovacuum_analyze_scale_factor, "
                   "autovacuum_analyze_threshold)")
    op.drop_index("ix_tickets_active_host_down", table_name="tickets")
