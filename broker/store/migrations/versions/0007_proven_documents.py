"""proven documents: the fingerprint of every document that proved an identity

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import broker.store.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proven_document",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("identity_record_id", sa.String(length=36), nullable=False),
        sa.Column("proven_at", broker.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_proven_document_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["identity_record_id"],
            ["identity_record.id"],
            name=op.f("fk_proven_document_identity_record_id_identity_record"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_proven_document")),
    )
    with op.batch_alter_table("proven_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proven_document_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("proven_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proven_document_account_id"))
    op.drop_table("proven_document")
