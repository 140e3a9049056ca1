"""Documents per repeat row: a file's ``document_id`` is its slot, the document id or
``<document id>~<row key>`` for one row of a ``for_each`` document (a row key is up to 80
characters), so the column grows from 100 to 200 characters.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("stored_file", "dossier_document")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("document_id", existing_type=sa.String(100),
                                  type_=sa.String(200), existing_nullable=False)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("document_id", existing_type=sa.String(200),
                                  type_=sa.String(100), existing_nullable=False)
