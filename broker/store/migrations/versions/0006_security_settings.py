"""security settings: pending account changes and a backup second factor

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 18:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import broker.store.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_change",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("new_email", sa.String(length=320), nullable=True),
        sa.Column("new_phone", sa.String(length=32), nullable=True),
        sa.Column("new_totp_secret", sa.String(length=64), nullable=True),
        sa.Column("otp_hash", sa.String(length=64), nullable=True),
        sa.Column("otp_expires_at", broker.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", broker.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", broker.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_account_change_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["browser_session.id"],
            name=op.f("fk_account_change_session_id_browser_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_change")),
    )
    with op.batch_alter_table("account_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_change_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_change_session_id"), ["session_id"], unique=False)

    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("backup_method", sa.String(length=8), nullable=True))

    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("backup_otp_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("backup_otp_expires_at", broker.store.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_column("backup_otp_expires_at")
        batch_op.drop_column("backup_otp_hash")

    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("backup_method")

    with op.batch_alter_table("account_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_change_session_id"))
        batch_op.drop_index(batch_op.f("ix_account_change_account_id"))

    op.drop_table("account_change")
