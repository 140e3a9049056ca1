"""The family's side: a satisfaction rating belongs to the guardian who gave it; a guardian's
own data is shared by their children's dossiers (guardian_profile).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guardian_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("guardian_key", sa.String(length=40), nullable=False),
        sa.Column("values", JSON, nullable=False),
        sa.Column("sources", JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["establishment_id"], ["establishment.id"],
                                name=op.f("fk_guardian_profile_establishment_id_establishment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardian_profile")),
        sa.UniqueConstraint("establishment_id", "guardian_key",
                            name=op.f("uq_guardian_profile_establishment_id_guardian_key")),
    )
    op.create_index(op.f("ix_guardian_profile_establishment_id"), "guardian_profile",
                    ["establishment_id"])
    with op.batch_alter_table("satisfaction_rating", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_satisfaction_rating_account_id"), ["account_id"],
                              unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_satisfaction_rating_account_id_family_account"), "family_account",
            ["account_id"], ["id"])
        batch_op.create_unique_constraint(
            batch_op.f("uq_satisfaction_rating_dossier_id_account_id"),
            ["dossier_id", "account_id"])


def downgrade() -> None:
    with op.batch_alter_table("satisfaction_rating", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_satisfaction_rating_dossier_id_account_id"),
                                 type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_satisfaction_rating_account_id_family_account"),
                                 type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_satisfaction_rating_account_id"))
        batch_op.drop_column("account_id")
    op.drop_index(op.f("ix_guardian_profile_establishment_id"), table_name="guardian_profile")
    op.drop_table("guardian_profile")
