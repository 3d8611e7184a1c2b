"""what a data protection officer needs in each agreement version

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 00:55:00.000000

Each version of a data sharing agreement records, as the ICO data sharing code asks: the DPIA
reference, how the parties stand to each other (separate controllers, joint controllers, processor),
the Article 9 or 10 condition where special-category data is shared, retention and deletion when
sharing ends, the named owner (name and email: review reminders go there), the DPO contact, the breach
contact and international transfers. Versions written before this revision have none (empty text);
the database default stays, so the release before this one keeps writing versions while it runs.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = (
    ("dpia_reference", sa.String(length=64)),
    ("controller_relationship", sa.String(length=32)),
    ("special_category_condition", sa.Text()),
    ("deletion_on_end", sa.Text()),
    ("owner_name", sa.String(length=200)),
    ("owner_email", sa.String(length=254)),
    ("dpo_contact", sa.String(length=500)),
    ("breach_contact", sa.String(length=500)),
    ("international_transfers", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("mou_version", schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("mou_version", schema=None) as batch_op:
        for name, _kind in reversed(COLUMNS):
            batch_op.drop_column(name)
