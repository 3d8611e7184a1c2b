"""identity records by birth date: vouching finds a document-proven namesake of the applicant

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 18:00:00.000000

An expand step: one index, nothing else. Document numbers already stored are masked by
``broker identities seal-documents``, not here: each must be fingerprinted first, with a key the
migration job does not hold (docs/operating.md).
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identity_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_record_birth_date"), ["birth_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identity_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_record_birth_date"))
