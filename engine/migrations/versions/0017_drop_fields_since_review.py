"""The change summary's ``fields_since_review``: computed at every refresh (a second diff of
each reviewed dossier) and read by nothing; the dossier page works out the changes since the
school's review itself.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("change_summary", schema=None) as batch_op:
        batch_op.drop_column("fields_since_review")


def downgrade() -> None:
    with op.batch_alter_table("change_summary", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fields_since_review", sa.JSON(), nullable=False,
                                      server_default="[]"))
