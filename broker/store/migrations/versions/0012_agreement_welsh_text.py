"""agreements' purpose, lawful basis and organisation name in Welsh

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:45:00.000000

Each version of a data sharing agreement gets the words people read in Welsh beside the English:
the organisation's name, the purpose and the lawful basis. Versions written before this revision
have none (empty text): the console flags them, and Welsh pages show a whole Welsh sentence without
them. The database default stays, so the release before this one keeps writing versions while this
migration runs (expand, then contract).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mou_version", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("organisation_cy", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("purpose_cy", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("lawful_basis_cy", sa.String(length=200), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("mou_version", schema=None) as batch_op:
        batch_op.drop_column("lawful_basis_cy")
        batch_op.drop_column("purpose_cy")
        batch_op.drop_column("organisation_cy")
