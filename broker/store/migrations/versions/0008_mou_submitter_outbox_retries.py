"""who submitted each MOU version, one MOU per service, and outbox delivery attempts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 15:00:00.000000
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

import broker.store.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mou_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_by", sa.String(length=64), nullable=True))
    _submitters_from_the_audit_log()

    # One MOU per service. A database that already holds two for one service stops here, naming it:
    # which one is the service's agreement is for its administrators to decide, not a migration.
    bind = op.get_bind()
    doubled = (
        bind.execute(sa.text("SELECT client_id FROM mou GROUP BY client_id HAVING COUNT(*) > 1"))
        .scalars()
        .all()
    )
    if doubled:
        raise RuntimeError(
            f"services with more than one MOU: {', '.join(doubled)}; keep one MOU each and migrate again"
        )
    with op.batch_alter_table("mou", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mou_client_id"))
        batch_op.create_index(batch_op.f("ix_mou_client_id"), ["client_id"], unique=True)

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("next_attempt_at", broker.store.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("failed_at", broker.store.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("last_error", sa.String(length=200), nullable=True))
    # The database default stays: the release before this one keeps writing messages without
    # ``attempts`` while this migration runs (expand, then contract; tests/deploy/test_expand.py).


def _submitters_from_the_audit_log() -> None:
    """Versions submitted before the submitter was recorded take it from their ``mou.submit`` event,
    so nobody approves what they submitted then either."""
    bind = op.get_bind()
    versions = {
        (reference, number): version_id
        for version_id, reference, number in bind.execute(
            sa.text("SELECT v.id, m.reference, v.number FROM mou_version v JOIN mou m ON m.id = v.mou_id")
        )
    }
    events = bind.execute(
        sa.text("SELECT actor, details FROM audit_event WHERE action = 'mou.submit' ORDER BY seq")
    )
    for actor, details in events:
        data = json.loads(details) if isinstance(details, str) else (details or {})
        version_id = versions.get((data.get("reference"), data.get("version")))
        if version_id is not None:  # the newest submission wins (a rejected version can be resubmitted)
            bind.execute(
                sa.text("UPDATE mou_version SET submitted_by = :actor WHERE id = :id"),
                {"actor": actor[:64], "id": version_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("last_error")
        batch_op.drop_column("failed_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")

    with op.batch_alter_table("mou", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mou_client_id"))
        batch_op.create_index(batch_op.f("ix_mou_client_id"), ["client_id"], unique=False)

    with op.batch_alter_table("mou_version", schema=None) as batch_op:
        batch_op.drop_column("submitted_by")
