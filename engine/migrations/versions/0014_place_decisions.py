"""Choices with places: the school's decision on each request (Dossier.place_decisions).

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.add_column(sa.Column("place_decisions", JSON, nullable=False,
                                      server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.drop_column("place_decisions")
