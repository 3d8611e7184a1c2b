"""The Security page's service on a real database: each change one unit of work, proven by a code,
recorded, the owner told, and the session given a new secret; a wrong code counted and kept."""

from __future__ import annotations

from sqlalchemy import select

from broker.accounts.changes import change_phone
from broker.accounts.recovery import FactorReset, LostFactor, Recovery
from broker.accounts.security import Security
from broker.accounts.service import AccountService
from broker.accounts.sessions import SessionService
from broker.store.models import Account, AccountChange, AuditEvent, BrowserSession, OutboxMessage
from tests.accounts.services import NOW, PASSWORD, PASSWORDS, Ended, account, interaction, last_code, visit


def signed_in(db, settings, ended: Ended, account_id: str) -> tuple[Security, str]:
    session, secret = SessionService(db, settings).start(account_id, ["pwd", "otp"], "Cl.Cm", NOW)
    db.commit()
    return Security(visit(db, settings, ended), session, db.get(Account, account_id)), secret


def recorded(db) -> list[str]:
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_changing_the_email_address(session_factory, settings):
    with session_factory() as db:
        account_id = account(db)
        security, secret = signed_in(db, settings, Ended(), account_id)
        security.start_email_change("new@example.org")
        assert not db.in_transaction()  # committed
        change = security.pending("email")
        assert change is not None
        assert security.confirm_email(change, "000000") is None
        new_secret = security.confirm_email(change, last_code(db, "new@example.org"))
        assert new_secret and new_secret != secret
    with session_factory() as db:
        assert db.get(Account, account_id).email == "new@example.org"
        assert db.scalars(select(AccountChange)).all() == []
        assert recorded(db) == ["code.failed", "email.changed"]
        told = {m.recipient: m.template for m in db.scalars(select(OutboxMessage))}
        assert told["person@example.org"] == "email_changed"


def test_an_address_with_an_account_is_never_changed_to(session_factory, settings):
    with session_factory() as db:
        account(db, "taken@example.org")
        security, _secret = signed_in(db, settings, Ended(), account(db))
        security.start_email_change("taken@example.org")
        change = security.pending("email")
        assert change is not None
        assert security.confirm_email(change, "123456") is None
    with session_factory() as db:
        templates = [m.template for m in db.scalars(select(OutboxMessage))]
        assert templates == ["email_change_account_exists"]


def test_a_backup_phone_confirmed_by_its_code(session_factory, settings):
    with session_factory() as db:
        account_id = account(db)
        security, _secret = signed_in(db, settings, Ended(), account_id)
        security.start_phone_change("backup-phone", "+447700900982")
        change = security.pending("backup-phone")
        assert change is not None

        def apply(person: Account, pending: AccountChange, _step: int | None) -> None:
            person.backup_method = "sms"
            change_phone(person, pending.new_phone or "")

        assert security.confirm_phone(
            change, last_code(db, "+447700900982"), apply, "factor.backup_set", "sms"
        )
        assert security.remove_backup()
        assert security.remove_backup() is None  # none left to remove
    with session_factory() as db:
        person = db.get(Account, account_id)
        assert person.backup_method is None and person.phone_number is None
        assert recorded(db) == ["factor.backup_set", "factor.backup_removed"]


def test_changing_the_password_ends_every_session(session_factory, settings):
    ended = Ended()
    with session_factory() as db:
        account_id = account(db)
        security, _secret = signed_in(db, settings, ended, account_id)
        assert not security.current_password_matches("wrong")
        assert security.current_password_matches(PASSWORD)
        security.change_password("a completely different passphrase 42")
        assert ended.everywhere == [(account_id, "password changed")] and ended.wakes == 1
    with session_factory() as db:
        person = db.get(Account, account_id)
        db.commit()  # the check hashes, with no transaction open
        assert AccountService(db, PASSWORDS).password_matches(person, "a completely different passphrase 42")
        assert recorded(db) == ["password.change_failed", "password.changed"]


def test_signing_out_everywhere(session_factory, settings):
    ended = Ended()
    with session_factory() as db:
        account_id = account(db)
        security, _secret = signed_in(db, settings, ended, account_id)
        security.sign_out_everywhere()
    assert ended.everywhere == [(account_id, "signed out everywhere")] and ended.wakes == 1
    with session_factory() as db:
        assert recorded(db) == ["sessions.ended_all"]
        assert db.scalars(select(BrowserSession)).one().ended_at is None  # ending is the protocol layer's


def test_a_password_reset(session_factory, settings):
    ended = Ended()
    with session_factory() as db:
        account_id = account(db)
        row = interaction(db)
        row.journey_email = "person@example.org"
        db.commit()
        person = db.get(Account, account_id)
        Recovery(visit(db, settings, ended)).reset_password(
            row, person, "a completely different passphrase 42"
        )
    assert ended.everywhere == [(account_id, "password reset")]
    with session_factory() as db:
        assert recorded(db) == ["password.reset"]


def test_a_lost_factor_waits_then_may_be_set_up(session_factory, settings):
    clock = [NOW]
    with session_factory() as db:
        account_id = account(db)
        row = interaction(db)
        person = db.get(Account, account_id)
        person.mfa_method = "totp"  # a second factor other than the email address
        reset = FactorReset(visit(db, settings, Ended(), clock))
        reset.send_code(row, person)
        assert reset.check_code(row, person, "000000") is LostFactor.WRONG_CODE
        assert reset.check_code(row, person, last_code(db, "person@example.org")) is LostFactor.WAITING
        assert person.factor_reset_available_at is not None
        clock[0] = person.factor_reset_available_at
        reset.send_code(row, person)
        assert reset.check_code(row, person, last_code(db, "person@example.org")) is LostFactor.SET_UP_NOW
        assert row.factor_setup_for == account_id
    with session_factory() as db:
        assert "factor_reset.requested" in recorded(db)


def test_codes_by_email_may_be_changed_without_the_wait(session_factory, settings):
    # The emailed code the reset asks for is the second factor of an account that gets codes by email.
    with session_factory() as db:
        account_id = account(db)
        row = interaction(db)
        person = db.get(Account, account_id)
        assert person.mfa_method in (None, "email")
        reset = FactorReset(visit(db, settings, Ended()))
        reset.send_code(row, person)
        assert reset.check_code(row, person, "000000") is LostFactor.WRONG_CODE
        assert row.factor_setup_for is None
        assert reset.check_code(row, person, last_code(db, "person@example.org")) is LostFactor.SET_UP_NOW
        assert row.factor_setup_for == account_id and person.factor_reset_available_at is None
