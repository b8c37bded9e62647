"""The collector's first schema: tickets and their timeline, API tokens, inventory pushes.

Revision ID: 0001
Revises:
Create Date: 2025-11-29

Written out in full rather than imported from collector/store/models.py: a migration is a
snapshot of the schema at its revision and must not change when the models do. A test
compares the migrated database with the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_PREDICATE = "status IN ('open', 'acknowledged')"


def _moment(name: str, comment: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, comment=comment)


def _enum(name: str, comment: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(32), nullable=nullable, comment=comment)


def _document(name: str, comment: str) -> sa.Column:
    kind = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    return sa.Column(name, kind, nullable=False, comment=comment)


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.Text(), nullable=True,
                  comment="Identifies a monitoring problem across repeats; NULL for user "
                          "tickets."),
        _enum("status", "open, acknowledged, resolved or closed."),
        _enum("priority", "P1 (most urgent) to P4."),
        _enum("impact", "Assessed impact: the system's criticality, raised by aggravating "
                        "facts."),
        _enum("urgency", "high, medium or low."),
        sa.Column("summary", sa.Text(), nullable=False, comment="One line: what is wrong."),
        sa.Column("description", sa.Text(), nullable=False,
                  comment="Details written by a reporter."),
        sa.Column("host", sa.String(255), nullable=True, comment="The affected host."),
        sa.Column("service", sa.String(255), nullable=True, comment="The affected service."),
        sa.Column("component", sa.String(255), nullable=True,
                  comment="The affected component; tickets sharing one count its systems."),
        _enum("source", "monitoring or user."),
        sa.Column("origin", sa.String(255), nullable=False,
                  comment="What opened it: alertmanager, events, evaluator, or user."),
        sa.Column("reporter", sa.String(255), nullable=True,
                  comment="The person who reported a user ticket."),
        sa.Column("assignee", sa.String(255), nullable=True, comment="Who works on it."),
        sa.Column("occurrences", sa.Integer(), nullable=False,
                  comment="How many trigger signals this ticket absorbed (the first one "
                          "included)."),
        _moment("first_seen", "When the problem was first observed."),
        _moment("last_seen", "When it was last observed."),
        _moment("created_at", "When the ticket was opened."),
        _moment("updated_at", "When the ticket last changed."),
        _moment("acknowledged_at", "When it was acknowledged.", nullable=True),
        _moment("resolved_at", "When it was resolved.", nullable=True),
        _moment("closed_at", "When it was closed.", nullable=True),
        _moment("recovered_at", "When monitoring saw the problem end on a confirm-recovery "
                                "rule; cleared when it fires again.", nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True,
                  comment="The host-down ticket an inhibited alert is attached to."),
        sa.Column("host_down", sa.Boolean(), nullable=False,
                  comment="This alert says its host is down: the host's other alerts attach "
                          "to it."),
        _enum("recovery", "What a recovered alert does: resolve the ticket, or confirm (a "
                          "person resolves); NULL for user tickets.", nullable=True),
        sa.Column("priority_override_reason", sa.Text(), nullable=True,
                  comment="Why a person set the priority by hand (NULL when assessed)."),
        _document("details", "Labels, annotations and links from the signal."),
        sa.ForeignKeyConstraint(["parent_id"], ["tickets.id"],
                                name="fk_tickets_parent_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        comment="The ticket queue: monitoring alerts and user reports alike.",
    )
    active = sa.text(ACTIVE_PREDICATE)
    op.create_index("uq_tickets_active_dedup_key", "tickets", ["dedup_key"], unique=True,
                    sqlite_where=active, postgresql_where=active)
    op.create_index("ix_tickets_status_id", "tickets", ["status", "id"])
    op.create_index("ix_tickets_host_status", "tickets", ["host", "status"])
    op.create_index("ix_tickets_component_status", "tickets", ["component", "status"])
    op.create_index("ix_tickets_parent_id", "tickets", ["parent_id"])

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False, comment="The ticket."),
        _moment("at", "When it happened."),
        sa.Column("kind", sa.String(32), nullable=False,
                  comment="created, attached, acknowledged, resolved, recovered, closed, note "
                          "or priority_overridden."),
        sa.Column("actor", sa.String(255), nullable=False,
                  comment="Who did it: a token name, a reporter, or a monitoring origin."),
        sa.Column("message", sa.Text(), nullable=False, comment="What happened, for people."),
        _document("data", "What happened, for programs."),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name="fk_ticket_events_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_events"),
        comment="Each ticket's audit timeline, oldest first by id.",
    )
    op.create_index("ix_ticket_events_ticket_id_id", "ticket_events", ["ticket_id", "id"])

    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False, comment="The token's name: the actor."),
        sa.Column("role", sa.String(32), nullable=False, comment="What the token may do."),
        sa.Column("token_hash", sa.String(128), nullable=False,
                  comment="Hash of the token; the token itself is not kept."),
        _moment("created_at", "When it was created."),
        _moment("last_used_at", "When it was last used.", nullable=True),
        _moment("revoked_at", "When it was revoked.", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tokens"),
        sa.UniqueConstraint("name", name="uq_tokens_name"),
        sa.UniqueConstraint("token_hash", name="uq_tokens_token_hash"),
        comment="API tokens (only their hashes).",
    )

    op.create_table(
        "inventory_pushes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False, comment="The pushing host."),
        sa.Column("idempotency_key", sa.String(255), nullable=False,
                  comment="The agent's key: a replayed push is stored once."),
        _moment("received_at", "When the collector accepted it."),
        _document("document", "The inventory document."),
        sa.PrimaryKeyConstraint("id", name="pk_inventory_pushes"),
        sa.UniqueConstraint("idempotency_key", name="uq_inventory_pushes_idempotency_key"),
        comment="Inventory documents pushed by agents, one row per accepted push.",
    )
    op.create_index("ix_inventory_pushes_host_id", "inventory_pushes", ["host", "id"])


def downgrade() -> None:
    op.drop_table("inventory_pushes")
    op.drop_table("tokens")
    op.drop_index("ix_ticket_events_ticket_id_id", table_name="ticket_events")
    op.drop_table("ticket_events")
    for name in ("ix_tickets_parent_id", "ix_tickets_component_status", "ix_tickets_host_status",
                 "ix_tickets_status_id", "uq_tickets_active_dedup_key"):
        op.drop_index(name, table_name="tickets")
    op.drop_table("tickets")
