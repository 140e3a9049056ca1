"""Import: invitation links for guardians, and family accounts looked up by SIECLE PERSONNE_ID.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 02:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["family_account.id"],
            name=op.f("fk_invitation_account_id_family_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitation_token_hash")),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_account_id"), ["account_id"],
                              unique=False)
    with op.batch_alter_table("family_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_account_personne_id"), ["personne_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("family_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_account_personne_id"))
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_account_id"))
    op.drop_table("invitation")
