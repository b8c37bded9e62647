"""Which support rule applies to matched software: the distribution's or upstream's
(registry/distro_support.py).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("rule", lambda: sa.Column(
        "rule", sa.String(16), nullable=False, server_default="upstream",
        comment="Which support applies: upstream (the product's dates), distro (the "
                "covering release's), distro-limited (the distribution ended or limits it).")),
    ("covered_by", lambda: sa.Column(
        "covered_by", sa.String(64), nullable=True,
        comment="The distribution release whose support covers the package, e.g. Debian 12.")),
    ("covered_eol_date", lambda: sa.Column(
        "covered_eol_date", sa.Date(), nullable=True,
        comment="End of the covering support (the release's security support, or the "
                "distribution's early end for this package).")),
    ("covered_eol_flag", lambda: sa.Column(
        "covered_eol_flag", sa.Boolean(), nullable=True,
        comment="The covering release's isEol when it has no date.")),
    ("covered_eoes_date", lambda: sa.Column(
        "covered_eoes_date", sa.Date(), nullable=True,
        comment="End of the covering release's extended support (Debian LTS, ...).")),
    ("rule_note", lambda: sa.Column(
        "rule_note", sa.Text(), nullable=False, server_default="",
        comment="Why the rule applies, when not plainly (vendor build, limited support).")),
)


def upgrade() -> None:
    with op.batch_alter_table("host_software") as batch:
        for _, column in COLUMNS:
            batch.add_column(column())


def downgrade() -> None:
    with op.batch_alter_table("host_software") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
