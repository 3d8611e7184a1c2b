"""The one revoke, and ending what a person holds: sessions, grants, and the notices services get
(SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from broker.config import Settings, load_settings
from broker.policy import grants
from broker.policy.security_events import notify_identity_dropped
from broker.store.models import BackchannelLogout, BrowserSession, Grant
from tests.policy.factories import NOW, a_grant, a_person, a_service, a_session, sub


def _revoked(db, grant: Grant) -> tuple[object, str | None]:
    db.refresh(grant)
    return grant.revoked_at, grant.revoked_reason


def _notices(db) -> list[tuple[str, str, str, str]]:
    rows = db.scalars(select(BackchannelLogout).order_by(BackchannelLogout.client_id)).all()
    return sorted((r.client_id, r.session_id, r.sub, r.kind) for r in rows)


def test_a_grant_revoked_once_keeps_its_first_time_and_reason(session_factory):
    with session_factory() as db:
        person, service = a_person(db), a_service(db)
        grant = a_grant(db, person, service)
        grants.revoke_grant(db, grant.id, NOW, grants.CODE_REUSED)
        later = NOW.replace(hour=13)
        assert grants.revoke(db, later, grants.ACCOUNT_DELETED, Grant.account_id == person.id) == 0
        assert _revoked(db, grant) == (NOW, grants.CODE_REUSED)


def test_signing_out_keeps_offline_grants_and_other_sessions(session_factory):
    with session_factory() as db:
        person, service = a_person(db), a_service(db)
        here, elsewhere = a_session(db, person, service), a_session(db, person, service)
        online = a_grant(db, person, service, here)
        offline = a_grant(db, person, service, here, scope="openid email offline_access")
        other = a_grant(db, person, service, elsewhere)
        grants.revoke_session_grants(db, here.id, NOW)
        assert _revoked(db, online) == (NOW, grants.LOGOUT)
        assert _revoked(db, offline) == (None, None)  # OIDC Core §11: offline access outlives the session
        assert _revoked(db, other) == (None, None)


def test_an_account_s_grants_for_one_service_or_all(session_factory):
    with session_factory() as db:
        person, stranger, one, two = a_person(db), a_person(db), a_service(db), a_service(db)
        at_one, at_two = a_grant(db, person, one), a_grant(db, person, two, scope="openid offline_access")
        theirs = a_grant(db, stranger, one)
        grants.revoke_account_grants(db, person.id, NOW, grants.CONSENT_WITHDRAWN, client_id=one.client_id)
        assert _revoked(db, at_one) == (NOW, grants.CONSENT_WITHDRAWN)
        assert _revoked(db, at_two) == (None, None)
        grants.revoke_account_grants(db, person.id, NOW, "password reset")
        assert _revoked(db, at_two) == (NOW, "password reset")
        assert _revoked(db, theirs) == (None, None)


def test_sign_out_is_one_unit_of_work_and_tells_every_listening_service(session_factory):
    with session_factory() as db:
        person, listening, deaf = a_person(db), a_service(db), a_service(db, logout=False)
        session = a_session(db, person, listening, deaf)
        grant = a_grant(db, person, listening, session)
        person_id, session_id, grant_id = person.id, session.id, grant.id
        listening_id, listening_sub = listening.client_id, sub(listening, person)
        db.commit()
        assert grants.sign_out(db, db_settings(), session_id, NOW) == 1
        db.rollback()  # committed already: nothing is left to undo
    with session_factory() as db:
        assert db.get(BrowserSession, session_id).ended_at is not None
        assert db.get(Grant, grant_id).revoked_reason == grants.LOGOUT
        assert _notices(db) == [(listening_id, session_id, listening_sub, "logout")]
        assert grants.sign_out(db, db_settings(), None, NOW) == 0
        assert db.get(BrowserSession, session_id).account_id == person_id


def test_ending_everywhere_ends_every_session_and_every_grant(session_factory):
    with session_factory() as db:
        person, service = a_person(db), a_service(db)
        first, second = a_session(db, person, service), a_session(db, person, service)
        offline = a_grant(db, person, service, first, scope="openid offline_access")
        grants.end_everywhere(db, db_settings(), person.id, NOW, "signed out everywhere")
        for session in (first, second):
            db.refresh(session)
            assert session.ended_at == NOW
        assert _revoked(db, offline) == (NOW, "signed out everywhere")
        assert {n[1] for n in _notices(db)} == {first.id, second.id}


def test_a_dropped_identity_level_revokes_only_the_grants_above_it(session_factory):
    with session_factory() as db:
        person, service = a_person(db), a_service(db)
        session = a_session(db, person, service)
        at_p2 = a_grant(db, person, service, session, identity_vot="P2")
        at_p1 = a_grant(db, person, service, session, identity_vot="P1")
        plain = a_grant(db, person, service, session)
        assert notify_identity_dropped(db, person.id, "P2", "P1", NOW) == 1  # the logout (no event URI)
        assert _revoked(db, at_p2) == (NOW, grants.IDENTITY_DROPPED)
        assert _revoked(db, at_p1) == (None, None)
        assert _revoked(db, plain) == (None, None)
        assert grants.live_identity_grants(db, person.id) == [at_p1]


def db_settings() -> Settings:
    return load_settings(env="test")
