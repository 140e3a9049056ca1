"""The school's side: staff accounts, their roles per establishment, links, the audit trail.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("recovery_codes", JSON, nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_account")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_account_email")),
    )
    op.create_table(
        "staff_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.Enum("direction", "secretariat", "gestion", "infirmerie", "lecture",
                                  name="staff_role", native_enum=False, create_constraint=True,
                                  length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_account.id"],
                                name=op.f("fk_staff_membership_staff_id_staff_account")),
        sa.ForeignKeyConstraint(["establishment_id"], ["establishment.id"],
                                name=op.f("fk_staff_membership_establishment_id_establishment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_membership")),
        sa.UniqueConstraint("staff_id", "establishment_id",
                            name=op.f("uq_staff_membership_staff_id_establishment_id")),
    )
    op.create_index(op.f("ix_staff_membership_staff_id"), "staff_membership", ["staff_id"])
    op.create_index(op.f("ix_staff_membership_establishment_id"), "staff_membership",
                    ["establishment_id"])
    op.create_table(
        "staff_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_account.id"],
                                name=op.f("fk_staff_token_staff_id_staff_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_token_token_hash")),
    )
    op.create_index(op.f("ix_staff_token_staff_id"), "staff_token", ["staff_id"])
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=40), nullable=True),
        sa.Column("establishment_id", sa.Integer(), nullable=True),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["establishment_id"], ["establishment.id"],
                                name=op.f("fk_audit_entry_establishment_id_establishment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_entry_seq")),
    )
    op.create_index(op.f("ix_audit_entry_establishment_id"), "audit_entry", ["establishment_id"])
    op.create_index(op.f("ix_audit_entry_dossier_id"), "audit_entry", ["dossier_id"])


    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.add_column(sa.Column("correction_targets", JSON, nullable=False,
                                      server_default="[]"))
        batch_op.add_column(sa.Column("reviewed_answers", JSON, nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("corrections", JSON, nullable=False,
                                      server_default="{}"))
        batch_op.add_column(sa.Column("leaving_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uploaded_by_staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("review_status", sa.String(length=20), nullable=False,
                                      server_default="to_review"))
        batch_op.add_column(sa.Column("refusal_reason", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("refusal_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rotation", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.create_foreign_key(
            batch_op.f("fk_stored_file_uploaded_by_staff_id_staff_account"), "staff_account",
            ["uploaded_by_staff_id"], ["id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_stored_file_reviewed_by_id_staff_account"), "staff_account",
            ["reviewed_by_id"], ["id"])
    op.create_table(
        "change_summary",
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("pages", JSON, nullable=False),
        sa.Column("fields_since_review", JSON, nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"], ondelete="CASCADE",
                                name=op.f("fk_change_summary_dossier_id_dossier")),
        sa.PrimaryKeyConstraint("dossier_id", name=op.f("pk_change_summary")),
    )


def downgrade() -> None:
    op.drop_table("change_summary")
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_stored_file_reviewed_by_id_staff_account"),
                                 type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_stored_file_uploaded_by_staff_id_staff_account"),
                                 type_="foreignkey")
        for column in ("rotation", "reviewed_at", "reviewed_by_id", "refusal_note",
                       "refusal_reason", "review_status", "uploaded_by_staff_id"):
            batch_op.drop_column(column)
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        for column in ("leaving_reason", "corrections", "reviewed_at", "reviewed_answers",
                       "correction_targets"):
            batch_op.drop_column(column)
    op.drop_table("audit_entry")
    op.drop_table("staff_token")
    op.drop_table("staff_membership")
    op.drop_table("staff_account")
