"""Imports from the web: one row per run (files, dry-run and import reports, letters), and the
establishment's lock (``running_for``, unique) that keeps two imports from running at once.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01 14:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("campaign_slug", sa.String(length=100), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("running_for", sa.Integer(), nullable=True),
        sa.Column("files", JSON, nullable=False),
        sa.Column("reader", sa.String(length=20), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=True),
        sa.Column("report", JSON, nullable=False),
        sa.Column("check_job", sa.String(length=32), nullable=True),
        sa.Column("import_job", sa.String(length=32), nullable=True),
        sa.Column("letters_key", sa.String(length=64), nullable=True),
        sa.Column("csv_key", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["establishment_id"], ["establishment.id"],
                                name=op.f("fk_import_run_establishment_id_establishment")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["staff_account.id"],
                                name=op.f("fk_import_run_requested_by_id_staff_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_run")),
        sa.UniqueConstraint("public_id", name=op.f("uq_import_run_public_id")),
        sa.UniqueConstraint("running_for", name=op.f("uq_import_run_running_for")),
    )
    op.create_index(op.f("ix_import_run_establishment_id"), "import_run", ["establishment_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_import_run_establishment_id"), table_name="import_run")
    op.drop_table("import_run")
