"""A person's own data: the download, and deleting the account as one unit of work (SQLite and
PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from broker.accounts.data import AccountData, own
from broker.config import load_settings
from broker.store.models import Account, AuditEvent, BackchannelLogout, Grant, Vouch
from tests.policy.factories import NOW, a_grant, a_person, a_service, a_session


class Withdrawals:
    """Records the vouches the deletion withdraws (the vouching service is tested on its own)."""

    def __init__(self) -> None:
        self.withdrawn: list[tuple[str, str, str]] = []

    def withdraw(self, vouch: Vouch, actor: str, reason: str) -> None:
        self.withdrawn.append((vouch.id, actor, reason))


def test_the_download_holds_the_person_s_own_rows_and_no_secrets(session_factory):
    with session_factory() as db:
        person, service = a_person(db), a_service(db)
        a_session(db, person, service)
        data = AccountData(db, load_settings(env="test"), lambda: NOW).download(person)
        assert data["account"]["email"] == person.email
        assert data["account"]["created_at"] == NOW.isoformat()
        assert len(data["sessions"]) == 1 and data["consents"] == []
        assert "password_hash" not in str(data)


def test_what_others_are_named_in_is_left_out_of_the_download():
    assert own({"vouch": "v1", "proven_accounts": ["someone"]}) == {"vouch": "v1"}


def test_deleting_an_account_tells_services_revokes_grants_and_keeps_only_the_audit_record(session_factory):
    with session_factory() as db:
        person, service = a_person(db), a_service(db)
        session = a_session(db, person, service)
        grant = a_grant(db, person, service, session, scope="openid offline_access")
        db.commit()
        person_id, grant_id, session_id = person.id, grant.id, session.id
        withdrawals = Withdrawals()
        AccountData(db, load_settings(env="test"), lambda: NOW).delete(person_id, withdrawals)
        db.rollback()  # committed by the service
    with session_factory() as db:
        assert db.get(Account, person_id) is None
        assert db.get(Grant, grant_id) is None  # the grant went with the account (ON DELETE CASCADE)
        assert [(n.client_id, n.session_id) for n in db.scalars(select(BackchannelLogout))] == [
            (service.client_id, session_id)
        ]
        assert (
            withdrawals.withdrawn == []
        )  # they vouched for nobody
        deleted = db.scalars(select(AuditEvent).filter_by(action="account.deleted")).one()
        assert deleted.subject == person_id
