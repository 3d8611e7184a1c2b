"""SQLAlchemy's private API that broker/store/sqlalchemy_internals.py uses: each test fails, naming
the SQLAlchemy version, when an upgrade changes it (then change that module, and only it). They run
on every database, through the same connections broker/store/fast.py uses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy
from sqlalchemy import event, inspect

from broker.store.db import transaction
from broker.store.fast import Statement, instance
from broker.store.models import Account
from broker.store.sqlalchemy_internals import before_cursor_execute, new_instance

UPGRADE = f"SQLAlchemy {sqlalchemy.__version__} changed its private API: update broker/store/sqlalchemy_internals.py"


def test_the_listeners_added_with_event_listen_are_called(engine, session_factory):
    seen: list[tuple[str, object, object, bool]] = []

    def listener(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((statement, parameters, context, executemany))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        with session_factory() as db:
            connection = db.connection()
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                before_cursor_execute(connection, cursor, "SELECT 1", ["p"])
            finally:
                cursor.close()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert ("SELECT 1", ["p"], None, False) in seen, UPGRADE


def test_a_statement_run_without_the_orm_is_seen_by_the_listeners(engine, session_factory):
    statements: list[str] = []
    count = Statement(sqlalchemy.select(sqlalchemy.func.count()).select_from(Account))

    def listener(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        with session_factory() as db:
            assert count.first(db) == (0,)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert any("count(*)" in s.lower() for s in statements), UPGRADE


def test_a_new_instance_has_orm_state_and_reads_a_row_without_changes(session_factory):
    made = new_instance(Account)
    assert isinstance(made, Account), UPGRADE
    assert inspect(made).transient and not inspect(made).modified, UPGRADE
    now = datetime(2026, 2, 28, 9, 30, tzinfo=UTC)
    with transaction(session_factory) as db:
        db.add(Account(id="acc", email="a@example.org", created_at=now))
    by_id = Statement(
        sqlalchemy.select(*Account.__table__.columns).where(Account.id == sqlalchemy.bindparam("id"))
    )
    with session_factory() as db:
        row = by_id.first(db, id="acc")
        assert row is not None
        read = instance(Account, row)
        assert (read.id, read.email, read.created_at) == ("acc", "a@example.org", now), UPGRADE
        assert not inspect(read).modified and read not in db, UPGRADE


def test_only_the_adapter_uses_them():
    root = Path(__file__).resolve().parents[2] / "broker"
    private = (
        "manager_of_class",
        ".dispatch.",
        "._clone(",
        "._bind_processors",
        "._cached_",
        "sqlalchemy.orm.instrumentation",
    )
    users = {
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if any(name in path.read_text() for name in private)
    }
    assert users == {"store/sqlalchemy_internals.py"}
