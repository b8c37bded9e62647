"""The registry: end-of-support data, matched software per host, assets, hardware model
lifecycle and contracts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Written out in full (see 0001): a migration is a snapshot of the schema at its revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _moment(name: str, comment: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, comment=comment)


def _document(name: str, comment: str) -> sa.Column:
    kind = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    return sa.Column(name, kind, nullable=False, comment=comment)


def upgrade() -> None:
    op.create_table(
        "eos_products",
        sa.Column("name", sa.String(255), nullable=False,
                  comment="The product id (endoflife.date permalink)."),
        sa.Column("label", sa.String(255), nullable=False,
                  comment="The product's display name."),
        sa.Column("category", sa.String(32), nullable=False, comment="os, database, lang, ..."),
        _document("document", "The API v1 `result` object."),
        _moment("synced_at", "When the sync that stored it ran."),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_eos_products")),
        comment="End-of-support data: one endoflife.date API v1 product per row, replaced "
                "whole by each sync.",
    )
    op.create_table(
        "registry_syncs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False,
                  comment="Where the data came from (no secrets)."),
        _moment("synced_at", "When it was applied."),
        sa.Column("products", sa.Integer(), nullable=False, comment="Products stored."),
        sa.Column("skipped", sa.Integer(), nullable=False,
                  comment="Malformed product documents left out."),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_syncs")),
        comment="Each end-of-support data sync that was applied.",
    )
    op.create_table(
        "host_software",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False, comment="The host."),
        sa.Column("product", sa.String(255), nullable=False, comment="The matched product."),
        sa.Column("cycle", sa.String(64), nullable=True,
                  comment="The release cycle; NULL when the version has none in the data."),
        sa.Column("category", sa.String(32), nullable=False,
                  comment="The product's category."),
        sa.Column("eol_date", sa.Date(), nullable=True,
                  comment="End of security support (the cycle's eolFrom)."),
        sa.Column("eol_flag", sa.Boolean(), nullable=True,
                  comment="The cycle's isEol when it has no date (true: ended, date unknown)."),
        sa.Column("eoes_date", sa.Date(), nullable=True,
                  comment="End of extended support (eoesFrom), when the product has one."),
        sa.Column("source", sa.String(100), nullable=False, comment="How it was observed."),
        sa.Column("observed", sa.Text(), nullable=False,
                  comment="What was observed (name version)."),
        _moment("matched_at", "When it was matched."),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_software")),
        comment="Software found on each host and matched to end-of-support data; replaced per "
                "host on each inventory push, for all on each sync.",
    )
    op.create_index("ix_host_software_host", "host_software", ["host"])
    op.create_index("ix_host_software_product_cycle", "host_software", ["product", "cycle"])
    op.create_table(
        "assets",
        sa.Column("name", sa.String(255), nullable=False,
                  comment="The asset: a host name or an inventory tag."),
        sa.Column("vendor", sa.String(255), nullable=True, comment="Manufacturer."),
        sa.Column("model", sa.String(255), nullable=True, comment="Model name."),
        sa.Column("serial", sa.String(255), nullable=True, comment="Serial number."),
        sa.Column("source", sa.String(32), nullable=False, comment="inventory or import."),
        _moment("updated_at", "When it last changed."),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_assets")),
        comment="Hardware assets: from agents' DMI data or imported.",
    )
    op.create_table(
        "hardware_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor", sa.String(255), nullable=False,
                  comment="Manufacturer, as assets name it."),
        sa.Column("model", sa.String(255), nullable=False, comment="Model, as assets name it."),
        sa.Column("end_of_sale", sa.Date(), nullable=True, comment="End of sale."),
        sa.Column("end_of_support", sa.Date(), nullable=True,
                  comment="End of support (EOSL): no more parts or fixes."),
        sa.Column("note", sa.Text(), nullable=True, comment="Where the dates come from."),
        _moment("imported_at", "When it was imported."),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hardware_models")),
        comment="Vendor model lifecycle (end of sale, end of support) from imports.",
    )
    op.create_index("uq_hardware_models_vendor_model", "hardware_models", ["vendor", "model"],
                    unique=True)
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset", sa.String(255), nullable=False,
                  comment="The asset (host name or inventory tag)."),
        sa.Column("vendor", sa.String(255), nullable=False, comment="Who provides it."),
        sa.Column("number", sa.String(255), nullable=False, comment="The contract number."),
        sa.Column("kind", sa.String(32), nullable=False, comment="warranty or support."),
        sa.Column("end_date", sa.Date(), nullable=False, comment="When it ends."),
        sa.Column("renewal", sa.String(32), nullable=False,
                  comment="Renewal status: pending, in-progress, renewed, not-renewing."),
        sa.Column("owner", sa.String(255), nullable=True, comment="Who handles renewal."),
        _moment("imported_at", "When it was imported."),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        comment="Warranty and support contracts per asset, from imports.",
    )
    op.create_index("uq_contracts_asset_vendor_number", "contracts",
                    ["asset", "vendor", "number"], unique=True)
    op.create_index("ix_contracts_end_date", "contracts", ["end_date"])


def downgrade() -> None:
    op.drop_index("ix_contracts_end_date", table_name="contracts")
    op.drop_index("uq_contracts_asset_vendor_number", table_name="contracts")
    op.drop_table("contracts")
    op.drop_index("uq_hardware_models_vendor_model", table_name="hardware_models")
    op.drop_table("hardware_models")
    op.drop_table("assets")
    op.drop_index("ix_host_software_product_cycle", table_name="host_software")
    op.drop_index("ix_host_software_host", table_name="host_software")
    op.drop_table("host_software")
    op.drop_table("registry_syncs")
    op.drop_table("eos_products")
