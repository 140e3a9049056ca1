"""Health data sealed at rest: the encrypted answers of the fields marked restricted: health.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.add_column(sa.Column("sealed_answers", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.drop_column("sealed_answers")
