"""Patching: each update a host's package manager offered, when it was first seen pending and
when it was installed (detected from later inventory pushes).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As collector/store/models.py writes it (the migration keeps its own copy: models change).
OPEN = "installed_at IS NULL AND withdrawn_at IS NULL"


def _moment(name: str, comment: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, comment=comment)


def upgrade() -> None:
    op.create_table(
        "package_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False, comment="The host."),
        sa.Column("manager", sa.String(16), nullable=False, comment="apt or dnf: whose update."),
        sa.Column("package", sa.String(255), nullable=False, comment="The package name."),
        sa.Column("architecture", sa.String(32), nullable=False,
                  comment="The package architecture; empty when the manager does not say."),
        sa.Column("version", sa.String(255), nullable=False,
                  comment="The candidate version offered."),
        sa.Column("security", sa.Boolean(), nullable=False,
                  comment="Offered from a security source."),
        _moment("first_seen_at",
                "The first push that offered it (when that push was collected)."),
        _moment("installed_at",
                "The first push showing the package at the candidate version or later.",
                nullable=True),
        sa.Column("installed_version", sa.String(255), nullable=True,
                  comment="The version that push showed installed."),
        sa.Column("exposure_seconds", sa.Float(), nullable=True,
                  comment="installed_at - first_seen_at in seconds, written with installed_at "
                          "(the exposure report sums it without date arithmetic per row)."),
        _moment("withdrawn_at", "When it stopped being offered without being installed "
                                "(package removed, update pulled).", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_package_updates"),
        comment="Each update a host's package manager offered (from its inventory pushes): "
                "when it was first seen pending and when it was installed.",
    )
    op.create_index("ix_package_updates_open_host", "package_updates", ["host"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index("ix_package_updates_installed", "package_updates",
                    ["installed_at", "security", "exposure_seconds", "host"])
    op.create_index("ix_package_updates_package_host", "package_updates", ["package", "host"])


def downgrade() -> None:
    op.drop_index("ix_package_updates_package_host", table_name="package_updates")
    op.drop_index("ix_package_updates_installed", table_name="package_updates")
    op.drop_index("ix_package_updates_open_host", table_name="package_updates")
    op.drop_table("package_updates")
