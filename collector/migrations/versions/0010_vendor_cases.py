"""Vendor support cases (their links and timelines), and follow-up reminders on the
notification queue: a notification is about a ticket or, now, about a vendor case.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As collector/store/models.py writes them (the migration keeps its own copy: models change).
ACTIVE = "status IN ('open', 'waiting_on_vendor', 'waiting_on_us')"
PENDING = "status = 'pending'"


def _moment(name: str, comment: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, comment=comment)


def _document(name: str, comment: str) -> sa.Column:
    kind = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    return sa.Column(name, kind, nullable=False, comment=comment)


def upgrade() -> None:
    op.create_table(
        "vendor_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor", sa.String(255), nullable=False,
                  comment="Who the case is open with."),
        sa.Column("case_number", sa.String(255), nullable=False,
                  comment="The vendor's own case number."),
        sa.Column("summary", sa.Text(), nullable=False,
                  comment="One line: what the case is about."),
        sa.Column("severity", sa.String(16), nullable=False,
                  comment="critical, high, medium or low."),
        sa.Column("status", sa.String(32), nullable=False,
                  comment="open, waiting_on_vendor, waiting_on_us, resolved or closed."),
        sa.Column("owner", sa.String(255), nullable=False,
                  comment="The person who follows it up, as the on-call schedule names them."),
        sa.Column("product", sa.String(255), nullable=True,
                  comment="The product the case is about (end-of-support product id)."),
        sa.Column("contract", sa.String(255), nullable=True,
                  comment="The number of the registry contract it falls under."),
        _document("past_end_of_support", "Why it concerns something past end of support, "
                                         "when opened (empty: nothing known)."),
        sa.Column("follow_up_days", sa.Integer(), nullable=False,
                  comment="The follow-up interval in days."),
        _moment("next_follow_up_at", "When it is next due for a follow-up; NULL once resolved "
                                     "or closed.", nullable=True),
        _moment("last_vendor_update_at", "When the vendor last answered.", nullable=True),
        _moment("last_reminded_at", "When its owner was last reminded.", nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False, comment="Reminders sent so far."),
        sa.Column("opened_by", sa.String(255), nullable=False, comment="Who opened it."),
        _moment("opened_at", "When it was opened."),
        _moment("updated_at", "When a person last updated it."),
        _moment("resolved_at", "When it was resolved.", nullable=True),
        _moment("closed_at", "When it was closed.", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_cases")),
        comment="Support cases opened with vendors, followed up until closed.",
    )
    op.create_index("uq_vendor_cases_vendor_case_number", "vendor_cases",
                    ["vendor", "case_number"], unique=True)
    op.create_index("ix_vendor_cases_status_id", "vendor_cases", ["status", "id"])
    op.create_index("ix_vendor_cases_due", "vendor_cases", ["next_follow_up_at"],
                    sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
    op.create_table(
        "vendor_case_links",
        sa.Column("case_id", sa.Integer(), nullable=False, comment="The case."),
        sa.Column("kind", sa.String(16), nullable=False, comment="ticket, change or host."),
        sa.Column("target", sa.String(255), nullable=False,
                  comment="The ticket or change id, or the host name."),
        sa.ForeignKeyConstraint(["case_id"], ["vendor_cases.id"],
                                name=op.f("fk_vendor_case_links_case_id_vendor_cases")),
        sa.PrimaryKeyConstraint("case_id", "kind", "target", name=op.f("pk_vendor_case_links")),
        comment="What a vendor case concerns: tickets, changes and hosts.",
    )
    op.create_index("ix_vendor_case_links_kind_target", "vendor_case_links", ["kind", "target"])
    op.create_table(
        "vendor_case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False, comment="The case."),
        _moment("at", "When it happened."),
        sa.Column("kind", sa.String(32), nullable=False,
                  comment="opened, updated, vendor_update, note, reminder_queued, reminded, "
                          "reminder_failed, resolved, closed or reopened."),
        sa.Column("actor", sa.String(255), nullable=False,
                  comment="Who did it: a person, or the collector."),
        sa.Column("message", sa.Text(), nullable=False, comment="What happened, for people."),
        _document("data", "What happened, for programs."),
        sa.ForeignKeyConstraint(["case_id"], ["vendor_cases.id"],
                                name=op.f("fk_vendor_case_events_case_id_vendor_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_case_events")),
        comment="Each vendor case's timeline: updates, notes, reminders, oldest first.",
    )
    op.create_index("ix_vendor_case_events_case_id_id", "vendor_case_events", ["case_id", "id"])
    # A reminder is a notification without a ticket. On SQLite the batch rebuilds the table;
    # its partial indexes are dropped first and made again after, with their predicates.
    _drop_notification_indexes()
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("ticket_id", existing_type=sa.Integer(), nullable=True,
                           comment="The ticket; NULL for a vendor case's reminder.",
                           existing_comment="The ticket.")
        batch.alter_column("kind", existing_type=sa.String(32), existing_nullable=False,
                           comment="trigger, escalate, reacknowledge, multi_system, resolve or "
                                   "vendor_case_reminder.",
                           existing_comment="trigger, escalate, reacknowledge, multi_system or "
                                            "resolve.")
        batch.add_column(sa.Column(
            "vendor_case_id", sa.Integer(), nullable=True,
            comment="The vendor case a follow-up reminder is about."))
        batch.create_foreign_key(op.f("fk_notifications_vendor_case_id_vendor_cases"),
                                 "vendor_cases", ["vendor_case_id"], ["id"])
    _create_notification_indexes()


def _drop_notification_indexes() -> None:
    for name in ("ix_notifications_pending", "ix_notifications_ticket_id_id",
                 "ix_notifications_pending_order", "ix_notifications_status_id"):
        op.drop_index(name, table_name="notifications")


def _create_notification_indexes() -> None:
    op.create_index("ix_notifications_pending", "notifications", ["next_attempt_at"],
                    sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))
    op.create_index("ix_notifications_ticket_id_id", "notifications", ["ticket_id", "id"])
    op.create_index("ix_notifications_pending_order", "notifications",
                    ["ticket_id", "channel", "id"],
                    sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))
    op.create_index("ix_notifications_status_id", "notifications", ["status", "id"])


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE vendor_case_id IS NOT NULL")
    _drop_notification_indexes()
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("fk_notifications_vendor_case_id_vendor_cases"),
                              type_="foreignkey")
        batch.drop_column("vendor_case_id")
        batch.alter_column("kind", existing_type=sa.String(32), existing_nullable=False,
                           comment="trigger, escalate, reacknowledge, multi_system or resolve.")
        batch.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False,
                           comment="The ticket.")
    _create_notification_indexes()
    op.drop_index("ix_vendor_case_events_case_id_id", table_name="vendor_case_events")
    op.drop_table("vendor_case_events")
    op.drop_index("ix_vendor_case_links_kind_target", table_name="vendor_case_links")
    op.drop_table("vendor_case_links")
    op.drop_index("ix_vendor_cases_due", table_name="vendor_cases")
    op.drop_index("ix_vendor_cases_status_id", table_name="vendor_cases")
    op.drop_index("uq_vendor_cases_vendor_case_number", table_name="vendor_cases")
    op.drop_table("vendor_cases")
