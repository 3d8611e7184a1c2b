"""Consent given, narrowed, refused and withdrawn: the pure rules (tables) and the service on SQLite
and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from broker.accounts.interactions import InteractionService
from broker.errors import PageNotFound
from broker.policy import grants
from broker.policy.consent import Agreed, ConsentService, agreed_now, optional_claims
from broker.policy.mou import AttributeTerm, Terms
from broker.policy.service import add_version, apply, governing, terms_of
from broker.store.models import AuditEvent, BackchannelLogout, Consent, Mou
from tests.policy.factories import NOW, a_grant, a_person, a_service, a_session

BEFORE = Agreed(("openid", "email"), ("email",), ("phone_number",))


@pytest.mark.parametrize(
    ("before", "afresh", "scopes", "asked", "declined", "after"),
    [
        # First consent.
        (None, False, ["openid", "email"], {"email"}, set(), Agreed(("email", "openid"), ("email",), ())),
        # Given again: new scopes and claims join what was agreed.
        (
            BEFORE,
            False,
            ["openid", "address"],
            {"address"},
            set(),
            Agreed(("address", "email", "openid"), ("address", "email"), ("phone_number",)),
        ),
        # Narrowed: a claim declined now is taken out of what was agreed.
        (
            BEFORE,
            False,
            ["openid"],
            {"email"},
            {"email"},
            Agreed(("email", "openid"), (), ("email", "phone_number")),
        ),
        # A claim declined before and agreed now is no longer declined.
        (
            BEFORE,
            False,
            ["openid"],
            {"phone_number"},
            set(),
            Agreed(("email", "openid"), ("email", "phone_number"), ()),
        ),
        # Afresh (withdrawn, or another agreement version): nothing before counts.
        (BEFORE, True, ["openid"], {"phone_number"}, set(), Agreed(("openid",), ("phone_number",), ())),
    ],
)
def test_agreed_now(before, afresh, scopes, asked, declined, after):
    assert agreed_now(before, afresh, scopes, asked, declined) == after


TERMS = Terms(
    organisation="Fishing",
    purpose="to issue fishing licences",
    attributes=(AttributeTerm("email", "P0", True, 365), AttributeTerm("phone_number", "P0", False, 90)),
    lawful_basis="public task",
    contacts="dpo@fish.example",
    start=date(2026, 1, 1),
    end=date(2028, 1, 1),
    review=date(2027, 1, 1),
)


@pytest.mark.parametrize(
    ("asked", "terms", "optional"),
    [
        ({"email", "phone_number"}, TERMS, {"phone_number"}),
        ({"email"}, TERMS, set()),
        ({"phone_number", "address"}, TERMS, {"phone_number"}),  # not in the agreement: not declinable
        ({"email", "phone_number"}, None, set()),  # no agreement: nothing may be declined
    ],
)
def test_only_what_the_agreement_marks_optional_may_be_declined(asked, terms, optional):
    assert optional_claims(asked, terms) == optional


def _asking(db, client, scope="openid email phone"):
    return InteractionService(db).start(
        client.client_id, {"scope": [scope], "redirect_uri": ["https://rp.example/cb"]}, "browser", NOW
    )


def _phone_optional(db, client) -> None:
    """A second version of the service's agreement, approved by two people: the phone number optional."""
    mou = db.scalar(select(Mou).filter_by(client_id=client.client_id))
    current = governing(db, client.client_id, today=NOW.date())
    version = add_version(db, mou, replace(terms_of(current), attributes=TERMS.attributes), "alice", NOW)
    apply(db, version, "submit", "alice", NOW)
    apply(db, version, "approve", "bob", NOW)


def test_consent_given_narrowed_and_widened_again(session_factory):
    with session_factory() as db:
        person, service = a_person(db), a_service(db)
        _phone_optional(db, service)
        db.commit()
        consents = ConsentService(db, lambda: NOW)

        def given(chosen: list[str]) -> tuple[list[str], list[str]]:
            consents.give(_asking(db, service), person.id, chosen)
            db.rollback()  # the service committed: nothing is left to undo
            row = consents.find(person.id, service.client_id)
            assert row is not None
            db.refresh(row)
            return row.claims, row.declined

        assert given(["phone_number"]) == (["email", "phone_number"], [])
        assert given([]) == (["email"], ["phone_number"])  # narrowed: the box unticked
        assert given(["phone_number"]) == (["email", "phone_number"], [])
        events = db.scalars(
            select(AuditEvent).filter_by(action="consent.given").order_by(AuditEvent.seq)
        ).all()
        assert [e.details["declined"] for e in events] == [[], ["phone_number"], []]


def test_a_box_the_agreement_does_not_make_optional_cannot_decline(session_factory):
    with session_factory() as db:
        person, service = a_person(db), a_service(db)  # every attribute required
        interaction = _asking(db, service)
        ConsentService(db, lambda: NOW).give(interaction, person.id, [])
        row = ConsentService(db, lambda: NOW).find(person.id, service.client_id)
        assert (row.claims, row.declined) == (["email", "phone_number"], [])
        assert (interaction.consent_given_at, interaction.account_id) == (NOW, person.id)


def test_refusing_finishes_the_request_and_stores_no_consent(session_factory):
    with session_factory() as db:
        person, service = a_person(db), a_service(db)
        interaction = _asking(db, service)
        ConsentService(db, lambda: NOW).refuse(interaction, person.id)
        db.rollback()
        assert interaction.completed_at == NOW
        assert db.scalars(select(Consent)).all() == []


def test_withdrawing_revokes_the_service_s_grants_and_tells_it(session_factory):
    later = NOW + timedelta(days=1)
    with session_factory() as db:
        person, service, other = a_person(db), a_service(db), a_service(db)
        session = a_session(db, person, service, other)
        ConsentService(db, lambda: NOW).give(_asking(db, service), person.id, [])
        held, kept = a_grant(db, person, service, session), a_grant(db, person, other, session)
        db.commit()
        ConsentService(db, lambda: later).withdraw(person, service.client_id)
        db.rollback()
        db.refresh(held)
        db.refresh(kept)
        assert (held.revoked_at, held.revoked_reason) == (later, grants.CONSENT_WITHDRAWN)
        assert kept.revoked_at is None
        assert ConsentService(db, lambda: later).find(person.id, service.client_id).withdrawn_at == later
        notices = db.scalars(select(BackchannelLogout)).all()
        assert [(n.client_id, n.session_id) for n in notices] == [(service.client_id, session.id)]
        assert db.scalars(select(AuditEvent).filter_by(action="consent.withdrawn")).one().details == {
            "client_id": service.client_id,
            "service_told": False,  # it registered no security event URI: it cannot be told
        }


def test_withdrawing_what_was_never_given_is_not_found_and_changes_nothing(session_factory):
    with session_factory() as db:
        person, service = a_person(db), a_service(db)
        grant = a_grant(db, person, service)
        db.commit()
        with pytest.raises(PageNotFound):
            ConsentService(db, lambda: NOW).withdraw(person, service.client_id)
        with pytest.raises(PageNotFound):
            ConsentService(db, lambda: NOW).withdraw(person, "no-such-service")
        db.refresh(grant)
        assert grant.revoked_at is None
        assert db.scalars(select(AuditEvent).filter_by(action="consent.withdrawn")).all() == []
