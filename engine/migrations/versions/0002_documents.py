"""Per-dossier document declarations: the declared date of a dated proof.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dossier_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(length=100), nullable=False),
        sa.Column("document_date", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"], name=op.f("fk_dossier_document_dossier_id_dossier")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["family_account.id"],
            name=op.f("fk_dossier_document_updated_by_id_family_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_document")),
        sa.UniqueConstraint(
            "dossier_id", "document_id", name=op.f("uq_dossier_document_dossier_id_document_id")
        ),
    )
    with op.batch_alter_table("dossier_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dossier_document_dossier_id"), ["dossier_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dossier_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_document_dossier_id"))

    op.drop_table("dossier_document")
