"""The sign-in service on a real database: the password (no transaction open through the hash), the
second factor, the session it starts, and step-up upgrading a password-only session in place."""

from __future__ import annotations

from sqlalchemy import select

from broker.accounts.sessions import SessionService
from broker.accounts.signin import SignIn
from broker.store.models import Account, AuditEvent, BrowserSession
from tests.accounts.services import NOW, PASSWORD, Ended, account, interaction, last_code, visit


def actions(db, account_id: str) -> list[str]:
    return list(
        db.scalars(select(AuditEvent.action).where(AuditEvent.subject == account_id).order_by(AuditEvent.seq))
    )


def test_a_wrong_password_is_recorded_and_committed(session_factory, settings):
    with session_factory() as db:
        account_id = account(db)
        row = interaction(db)
        db.get(Account, account_id)  # a transaction is open: the service closes it before the hash
        checked = SignIn(visit(db, settings, Ended())).with_password(
            row, "person@example.org", "wrong", True, None
        )
        assert checked.account is None and checked.secret is None
        assert not db.in_transaction()
    with session_factory() as db:
        assert actions(db, account_id) == ["sign_in.failure"]


def test_the_password_alone_when_the_service_asks_for_no_more(session_factory, settings):
    with session_factory() as db:
        account_id = account(db)
        checked = SignIn(visit(db, settings, Ended())).with_password(
            interaction(db), "Person@Example.org ", PASSWORD, False, None
        )
        assert checked.account is not None and checked.secret
    with session_factory() as db:
        [session] = db.scalars(select(BrowserSession)).all()
        assert session.level == "Cl" and session.amr == ["pwd"] and session.account_id == account_id
        assert actions(db, account_id) == ["sign_in.success"]


def test_two_factors_end_the_browsers_earlier_session_and_tell_its_services(session_factory, settings):
    ended = Ended()
    with session_factory() as db:
        account(db)
        sign_in = SignIn(visit(db, settings, ended))
        first = sign_in.with_password(interaction(db), "person@example.org", PASSWORD, False, None).secret
        row = interaction(db)
        checked = sign_in.with_password(row, "person@example.org", PASSWORD, True, first)
        assert checked.secret is None  # a code was sent
        assert sign_in.with_code(row, checked.account, "000000", first) is None  # counted, kept
        secret = sign_in.with_code(row, checked.account, last_code(db, "person@example.org"), first)
        assert secret
    with session_factory() as db:
        sessions = {s.level: s for s in db.scalars(select(BrowserSession))}
        assert sessions["Cl"].ended_at is not None and sessions["Cl.Cm"].ended_at is None
        assert ended.notices == [sessions["Cl"].id]
        assert "code.failed" in db.scalars(select(AuditEvent.action)).all()


def test_step_up_upgrades_the_password_only_session_in_place(session_factory, settings):
    ended = Ended()
    with session_factory() as db:
        account(db)
        sign_in = SignIn(visit(db, settings, ended))
        weak = sign_in.with_password(interaction(db), "person@example.org", PASSWORD, False, None).secret
        session = SessionService(db, settings).find(weak, NOW)
        assert session is not None
        row = sign_in.step_up(session, "/account/password", "browser")
        assert row.account_id == session.account_id and row.password_ok_at == session.auth_time
        checked_account = db.get(Account, session.account_id)
        strong = sign_in.with_code(row, checked_account, last_code(db, "person@example.org"), weak)
        assert strong and strong != weak
    with session_factory() as db:
        [upgraded] = db.scalars(select(BrowserSession)).all()  # the same session: services keep its sid
        assert upgraded.id == session.id and upgraded.ended_at is None
        assert upgraded.level == "Cl.Cm" and set(upgraded.amr) == {"pwd", "otp"}
        assert SessionService(db, settings).find(weak, NOW) is None  # the old secret stops working
        assert SessionService(db, settings).find(strong, NOW) is not None
        assert ended.notices == []


def test_step_up_for_someone_else_is_a_fresh_session(session_factory, settings):
    """A step-up interaction completed as another person (their passkey, say) upgrades nothing."""
    ended = Ended()
    with session_factory() as db:
        account(db)
        other = account(db, "other@example.org")
        sign_in = SignIn(visit(db, settings, ended))
        weak = sign_in.with_password(interaction(db), "person@example.org", PASSWORD, False, None).secret
        session = SessionService(db, settings).find(weak, NOW)
        assert session is not None
        row = sign_in.step_up(session, "/account/password", "browser")
        row.account_id = other
        sign_in.start(row, ["hwk"], "Cl.Cm", weak)
    with session_factory() as db:
        by_account = {s.account_id: s for s in db.scalars(select(BrowserSession))}
        assert by_account[session.account_id].ended_at is not None
        assert by_account[other].level == "Cl.Cm"
        assert ended.notices == [session.id]
