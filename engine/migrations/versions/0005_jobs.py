"""Background jobs, reminder templates and the log of messages sent to families.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=True),
        sa.Column("campaign_slug", sa.String(length=100), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("params", JSON, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("result_key", sa.String(length=64), nullable=True),
        sa.Column("result_name", sa.String(length=255), nullable=True),
        sa.Column("result_size", sa.Integer(), nullable=True),
        sa.Column("result_mime", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["establishment_id"], ["establishment.id"],
                                name=op.f("fk_job_establishment_id_establishment")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["staff_account.id"],
                                name=op.f("fk_job_requested_by_id_staff_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("public_id", name=op.f("uq_job_public_id")),
    )
    op.create_index(op.f("ix_job_establishment_id"), "job", ["establishment_id"])
    op.create_table(
        "message_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("campaign_slug", sa.String(length=100), nullable=False),
        sa.Column("audience", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["establishment_id"], ["establishment.id"],
                                name=op.f("fk_message_template_establishment_id_establishment")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["staff_account.id"],
                                name=op.f("fk_message_template_updated_by_id_staff_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_template")),
        sa.UniqueConstraint("establishment_id", "campaign_slug", "audience",
                            name=op.f("uq_message_template_establishment_id_campaign_slug_audience")),
    )
    op.create_table(
        "sent_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("campaign_slug", sa.String(length=100), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["establishment_id"], ["establishment.id"],
                                name=op.f("fk_sent_message_establishment_id_establishment")),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"], ondelete="SET NULL",
                                name=op.f("fk_sent_message_dossier_id_dossier")),
        sa.ForeignKeyConstraint(["account_id"], ["family_account.id"], ondelete="SET NULL",
                                name=op.f("fk_sent_message_account_id_family_account")),
        sa.ForeignKeyConstraint(["sent_by_id"], ["staff_account.id"],
                                name=op.f("fk_sent_message_sent_by_id_staff_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_message")),
    )
    op.create_index(op.f("ix_sent_message_establishment_id"), "sent_message", ["establishment_id"])
    op.create_index(op.f("ix_sent_message_dossier_id"), "sent_message", ["dossier_id"])
    op.create_index(op.f("ix_sent_message_job_id"), "sent_message", ["job_id"])


def downgrade() -> None:
    op.drop_table("sent_message")
    op.drop_table("message_template")
    op.drop_table("job")
