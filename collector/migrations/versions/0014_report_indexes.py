"""The governance review's reads: tickets by opening time, timeline records by kind and time
(collector/reports/governance.py; bench/governance_report.py measures them).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])
    op.create_index("ix_ticket_events_kind_at", "ticket_events", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_events_kind_at", table_name="ticket_events")
    op.drop_index("ix_tickets_created_at", table_name="tickets")
