"""change notices for the in-memory catalog of clients and MOUs (PostgreSQL only)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 18:30:00.000000

Each instance holds clients and MOU versions in memory (broker/store/catalog.py) and forgets them when
any of these tables changes: a statement-level trigger notifies the ``broker_catalog`` channel, and
PostgreSQL delivers the notice when the change commits. SQLite has no notifications; there the
catalog stays off.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("client", "mou", "mou_version")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION broker_catalog_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('broker_catalog', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION broker_catalog_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_catalog_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS broker_catalog_changed()")
