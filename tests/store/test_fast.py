"""Statements run without the ORM (broker.store.fast) read and write exactly what the ORM does, on
every database: aware UTC datetimes, JSON lists and objects, NULLs, inside the session's transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, event, select, update
from sqlalchemy.exc import IntegrityError

from broker.store.db import transaction
from broker.store.fast import Statement, inserting, instance
from broker.store.models import Account, Client, Grant

NOW = datetime(2026, 11, 29, 12, 30, 15, 123456, tzinfo=UTC)
INSERT_GRANT = inserting(Grant)
GRANT_BY_ID = Statement(select(*Grant.__table__.columns).where(Grant.id == bindparam("id")))
REVOKE = Statement(
    update(Grant)
    .where(Grant.id == bindparam("id"), Grant.revoked_at.is_(None))
    .values(revoked_at=bindparam("now", type_=Grant.revoked_at.type))
)
NAMED = Statement(
    select(Client.client_id).where(
        Client.sector_identifier == bindparam("sector"), Client.name.in_(("A", "B"))
    )
)


def _account_and_client(db) -> None:
    db.add(Account(id="acc", email="a@example.org", created_at=NOW))
    db.add(
        Client(
            client_id="svc",
            name="A",
            token_endpoint_auth_method="client_secret_basic",
            redirect_uris=["https://svc.example/cb"],
            post_logout_redirect_uris=[],
            sector_identifier="svc.example",
            scopes=["openid", "email"],
            claims=["email"],
            created_at=NOW,
        )
    )


def _grant_values(**changes) -> dict:
    values = {
        "id": "g1",
        "client_id": "svc",
        "account_id": "acc",
        "session_id": None,
        "scope": "openid email",
        "claims": {"userinfo": {"email": None}, "id_token": {}},
        "vot": "Cl.Cm",
        "identity_vot": None,
        "amr": ["pwd", "otp"],
        "auth_time": NOW.astimezone(timezone(timedelta(hours=-5))),
        "created_at": NOW,
        "revoked_at": None,
        "revoked_reason": None,
    }
    return values | changes


def test_a_row_written_here_reads_the_same_through_the_orm(session_factory):
    with transaction(session_factory) as db:
        _account_and_client(db)
    with transaction(session_factory) as db:
        assert INSERT_GRANT.run(db, **_grant_values()) == 1
    with session_factory() as db:
        grant = db.get(Grant, "g1")
    assert grant.auth_time == NOW and grant.auth_time.utcoffset() == timedelta(0)
    assert grant.claims == {"userinfo": {"email": None}, "id_token": {}}
    assert grant.amr == ["pwd", "otp"]
    assert grant.revoked_at is None and grant.identity_vot is None


def test_a_row_written_by_the_orm_reads_the_same_here(session_factory):
    with transaction(session_factory) as db:
        _account_and_client(db)
        db.add(Grant(**_grant_values(id="g2")))
    with session_factory() as db:
        row = GRANT_BY_ID.first(db, id="g2")
        assert GRANT_BY_ID.first(db, id="nobody") is None
    grant = instance(Grant, row)
    assert grant.auth_time == NOW and grant.auth_time.tzinfo is not None
    assert grant.created_at == NOW
    assert grant.claims == {"userinfo": {"email": None}, "id_token": {}}
    assert grant.amr == ["pwd", "otp"]


def test_statements_share_the_session_transaction(session_factory):
    with transaction(session_factory) as db:
        _account_and_client(db)
    with pytest.raises(RuntimeError), transaction(session_factory) as db:
        INSERT_GRANT.run(db, **_grant_values(id="g3"))
        assert GRANT_BY_ID.first(db, id="g3") is not None  # seen inside the transaction
        raise RuntimeError("the request failed")
    with session_factory() as db:
        assert GRANT_BY_ID.first(db, id="g3") is None  # and rolled back with it


def test_an_update_reports_the_rows_it_touched(session_factory):
    with transaction(session_factory) as db:
        _account_and_client(db)
        db.add(Grant(**_grant_values(id="g4")))
    with transaction(session_factory) as db:
        assert REVOKE.run(db, id="g4", now=NOW) == 1
        assert REVOKE.run(db, id="g4", now=NOW) == 0  # already revoked
    with session_factory() as db:
        assert db.get(Grant, "g4").revoked_at == NOW


def test_constants_in_the_statement_are_bound_and_listeners_see_it(session_factory, engine):
    with transaction(session_factory) as db:
        _account_and_client(db)
    seen: list[str] = []
    listener = lambda _c, _cur, statement, *_rest: seen.append(statement)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        with session_factory() as db:
            assert NAMED.rows(db, sector="svc.example") == [("svc",)]
            assert NAMED.rows(db, sector="elsewhere.example") == []
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert any("FROM client" in statement for statement in seen)


def test_an_instance_read_here_is_not_in_the_session(session_factory):
    with transaction(session_factory) as db:
        _account_and_client(db)
        db.add(Grant(**_grant_values(id="g5")))
    with transaction(session_factory) as db:
        grant = instance(Grant, GRANT_BY_ID.first(db, id="g5"))
        grant.revoked_reason = "changed on the copy"
        assert grant not in db
    with session_factory() as db:
        assert db.get(Grant, "g5").revoked_reason is None


def test_after_a_commit_the_next_statement_is_in_the_next_transaction(session_factory):
    with transaction(session_factory) as db:
        _account_and_client(db)
    with session_factory() as db:
        INSERT_GRANT.run(db, **_grant_values(id="kept"))
        db.commit()
        INSERT_GRANT.run(db, **_grant_values(id="dropped"))
        db.rollback()
        assert GRANT_BY_ID.first(db, id="kept") is not None
        assert GRANT_BY_ID.first(db, id="dropped") is None


def test_after_a_failed_flush_a_statement_is_refused_not_run_outside_the_transaction(session_factory):
    from sqlalchemy.exc import PendingRollbackError

    with transaction(session_factory) as db:
        _account_and_client(db)
    with session_factory() as db:
        INSERT_GRANT.run(db, **_grant_values(id="before"))
        db.add(Account(id="acc2", email="a@example.org", created_at=NOW))  # the same email: refused
        with pytest.raises(IntegrityError):
            db.flush()
        with pytest.raises(PendingRollbackError):
            INSERT_GRANT.run(db, **_grant_values(id="after"))
        db.rollback()
    with session_factory() as db:
        assert GRANT_BY_ID.first(db, id="before") is None
        assert GRANT_BY_ID.first(db, id="after") is None


def test_a_refused_statement_raises_the_same_error_as_through_the_orm(session_factory):
    with transaction(session_factory) as db:
        _account_and_client(db)
        INSERT_GRANT.run(db, **_grant_values(id="g6"))
    with pytest.raises(IntegrityError), transaction(session_factory) as db:
        INSERT_GRANT.run(db, **_grant_values(id="g6"))  # the same id again


def test_rows_added_in_the_session_are_flushed_before_a_statement_as_the_orm_does(session_factory):
    with transaction(session_factory) as db:
        _account_and_client(db)  # added, not flushed: the grant below refers to both
        assert INSERT_GRANT.run(db, **_grant_values(id="g7")) == 1
    with session_factory() as db:
        assert db.get(Grant, "g7").account_id == "acc"
