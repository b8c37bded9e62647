"""Changes: the changes, the hosts each touches, and each change's timeline.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Written out in full (see 0001): a migration is a snapshot of the schema at its revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _moment(name: str, comment: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, comment=comment)


def _document(name: str, comment: str, *, nullable: bool = False) -> sa.Column:
    kind = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    return sa.Column(name, kind, nullable=nullable, comment=comment)


def _text(name: str, comment: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=nullable, comment=comment)


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False,
                  comment="standard (pre-approved), normal or emergency."),
        sa.Column("status", sa.String(32), nullable=False,
                  comment="draft, submitted, approved, rejected, in_progress, completed or "
                          "reviewed."),
        _text("summary", "One line: what changes."),
        sa.Column("author", sa.String(255), nullable=False,
                  comment="Who created it (may not approve it)."),
        _document("host_patterns", "The affected hosts as given (names and globs)."),
        _document("services", "The affected services."),
        _moment("planned_start", "Start of the planned window."),
        _moment("planned_end", "End of the planned window."),
        sa.Column("timezone", sa.String(64), nullable=False,
                  comment="The IANA time zone the window was given in (shown in it)."),
        sa.Column("team", sa.String(255), nullable=True,
                  comment="The team doing it: whose maintenance hours and on-call apply."),
        _moment("actual_start", "When the work started.", nullable=True),
        _moment("actual_end", "When the work ended.", nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True,
                  comment="successful, failed or rolled_back, once completed."),
        _text("risk_assessment", "Risk and impact, in words."),
        _text("implementation_plan", "How it is done."),
        _text("rollback_plan", "How it is undone."),
        _text("documentation_url", "Where it is written up.", nullable=True),
        _document("tickets", "Linked ticket ids."),
        _document("packages", "Packages a patch change installs: [{name, version}]; NULL if "
                              "none.", nullable=True),
        _document("risk", "The computed risk score: score, level and reasons."),
        _document("risk_override", "A person's risk level with the reason and who set it.",
                  nullable=True),
        sa.Column("approver", sa.String(255), nullable=True,
                  comment="Who approved or rejected it (system for a standard change)."),
        _text("decision_reason", "Why it was approved or rejected.", nullable=True),
        _moment("decided_at", "When it was approved or rejected.", nullable=True),
        _text("freeze_override_reason", "Why a normal change inside a freeze was approved "
                                        "anyway.", nullable=True),
        _moment("created_at", "When it was created."),
        _moment("updated_at", "When it last changed."),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
        comment="Changes: planned work on hosts and services, approved, done and reviewed.",
    )
    op.create_index("ix_changes_status_planned_start", "changes", ["status", "planned_start"])
    op.create_index("ix_changes_planned_start", "changes", ["planned_start"])
    op.create_table(
        "change_hosts",
        sa.Column("change_id", sa.Integer(), nullable=False, comment="The change."),
        sa.Column("host", sa.String(255), nullable=False, comment="A host it touches."),
        sa.ForeignKeyConstraint(["change_id"], ["changes.id"],
                                name=op.f("fk_change_hosts_change_id_changes")),
        sa.PrimaryKeyConstraint("change_id", "host", name=op.f("pk_change_hosts")),
        comment="The hosts each change touches, its patterns resolved when it was saved.",
    )
    op.create_index("ix_change_hosts_host", "change_hosts", ["host"])
    op.create_table(
        "change_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False, comment="The change."),
        _moment("at", "When it happened."),
        sa.Column("kind", sa.String(32), nullable=False,
                  comment="created, submitted, approved, rejected, started, completed, "
                          "reviewed, note or risk_overridden."),
        sa.Column("actor", sa.String(255), nullable=False, comment="Who did it."),
        _text("message", "What happened, for people."),
        _document("data", "What happened, for programs."),
        sa.ForeignKeyConstraint(["change_id"], ["changes.id"],
                                name=op.f("fk_change_events_change_id_changes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_events")),
        comment="Each change's timeline, oldest first by id.",
    )
    op.create_index("ix_change_events_change_id_id", "change_events", ["change_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_change_events_change_id_id", table_name="change_events")
    op.drop_table("change_events")
    op.drop_index("ix_change_hosts_host", table_name="change_hosts")
    op.drop_table("change_hosts")
    op.drop_index("ix_changes_planned_start", table_name="changes")
    op.drop_index("ix_changes_status_planned_start", table_name="changes")
    op.drop_table("changes")
