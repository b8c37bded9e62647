"""Escalation timers, the notification queue and single-use action links.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Written out in full (see 0001): a migration is a snapshot of the schema at its revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE = "due_at IS NOT NULL"
PENDING = "status = 'pending'"
CORRELATED = "status IN ('open', 'acknowledged') AND parent_id IS NULL"


def _moment(name: str, comment: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, comment=comment)


def _document(name: str, comment: str) -> sa.Column:
    kind = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    return sa.Column(name, kind, nullable=False, comment=comment)


def upgrade() -> None:
    op.create_table(
        "escalation_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False,
                  comment="SHA-256 of the policy's canonical JSON."),
        sa.Column("priority", sa.String(32), nullable=False,
                  comment="The priority it was written for."),
        _document("document", "The policy snapshot."),
        _moment("created_at", "When it was first stored."),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_policies")),
        sa.UniqueConstraint("digest", name=op.f("uq_escalation_policies_digest")),
        comment="Escalation policies as they were when tickets opened: one row per distinct "
                "policy, never changed.",
    )
    op.create_table(
        "escalations",
        sa.Column("ticket_id", sa.Integer(), nullable=False, comment="The ticket."),
        sa.Column("policy_id", sa.Integer(), nullable=False,
                  comment="The policy snapshot it follows."),
        sa.Column("state", sa.String(16), nullable=False,
                  comment="running, acknowledged or done."),
        sa.Column("next_step", sa.Integer(), nullable=False,
                  comment="Index of the next step to fire."),
        _moment("epoch", "Steps' 'after' counts from here: the opening or the last re-page."),
        _moment("due_at", "When the sweep looks at it next; NULL: only when its ticket "
                          "changes.", nullable=True),
        sa.Column("team", sa.String(255), nullable=True,
                  comment="The team whose schedule answers."),
        _document("notified", "[person, [channels]] pairs notified so far (for the resolve "
                              "notice)."),
        _moment("multi_system_at", "When the multi-system notice went out.", nullable=True),
        _moment("updated_at", "When it last changed."),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_escalations_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["policy_id"], ["escalation_policies.id"],
                                name=op.f("fk_escalations_policy_id_escalation_policies")),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_escalations")),
        comment="Each ticket's running escalation: a durable timer claimed with row locks.",
    )
    op.create_index("ix_escalations_due_at", "escalations", ["due_at"],
                    sqlite_where=sa.text(DUE), postgresql_where=sa.text(DUE))
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False, comment="The ticket."),
        sa.Column("channel", sa.String(64), nullable=False,
                  comment="The channel's configured name."),
        sa.Column("recipient", sa.String(255), nullable=True,
                  comment="The person; NULL for a channel-only notice."),
        sa.Column("kind", sa.String(32), nullable=False,
                  comment="trigger, escalate, reacknowledge, multi_system or resolve."),
        sa.Column("status", sa.String(16), nullable=False,
                  comment="pending, delivered or dead."),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="Delivery attempts so far."),
        _moment("next_attempt_at", "When it may be tried (again); a claimed one is leased "
                                   "until then."),
        _moment("created_at", "When it was queued."),
        _moment("finished_at", "When it was delivered or given up.", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True,
                  comment="Why the last attempt failed."),
        _document("payload", "The message (ticket, priority, summary, step); links are signed "
                             "at sending."),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_notifications_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        comment="The delivery queue: every notification until delivered or dead.",
    )
    op.create_index("ix_notifications_pending", "notifications", ["next_attempt_at"],
                    sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))
    op.create_index("ix_notifications_ticket_id_id", "notifications", ["ticket_id", "id"])
    op.create_index("ix_notifications_pending_order", "notifications",
                    ["ticket_id", "channel", "id"],
                    sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))
    for column in ("component", "service"):
        op.create_index(f"ix_tickets_correlated_{column}", "tickets", [column, "created_at"],
                        sqlite_where=sa.text(CORRELATED), postgresql_where=sa.text(CORRELATED))
    op.create_index("ix_notifications_status_id", "notifications", ["status", "id"])
    op.create_table(
        "action_uses",
        sa.Column("nonce", sa.String(64), nullable=False, comment="The link's nonce."),
        sa.Column("ticket_id", sa.Integer(), nullable=False, comment="The ticket it acted on."),
        sa.Column("action", sa.String(16), nullable=False, comment="ack or resolve."),
        _moment("used_at", "When it was used."),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_action_uses")),
        comment="One-click action links already used (single use).",
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_correlated_service", table_name="tickets")
    op.drop_index("ix_tickets_correlated_component", table_name="tickets")
    op.drop_index("ix_notifications_pending_order", table_name="notifications")
    op.drop_table("action_uses")
    op.drop_index("ix_notifications_status_id", table_name="notifications")
    op.drop_index("ix_notifications_ticket_id_id", table_name="notifications")
    op.drop_index("ix_notifications_pending", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_escalations_due_at", table_name="escalations")
    op.drop_table("escalations")
    op.drop_table("escalation_policies")
