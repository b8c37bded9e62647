"""People behind actions: a token's person, a used link's actor, an escalation's restart
reason.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

Nullable columns added in place (no table rebuild on SQLite); existing rows read as "not
known", which is what they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tokens", sa.Column(
        "person", sa.String(255), nullable=True,
        comment="The person who holds it: the actor in timelines (else the token's name)."))
    op.add_column("action_uses", sa.Column(
        "actor", sa.String(255), nullable=True,
        comment="Who acted through the link (its recipient), as the timeline says."))
    op.add_column("escalations", sa.Column(
        "restart_reason", sa.Text(), nullable=True,
        comment="Why the escalation starts over (a priority change), until its first step."))


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("restart_reason")
    with op.batch_alter_table("action_uses") as batch:
        batch.drop_column("actor")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("person")
