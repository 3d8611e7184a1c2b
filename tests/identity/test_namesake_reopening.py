"""An identity vouches gave is re-opened when someone proves, with a document, that they are the person
it names: the vouches it counted go back to a reviewer, and it no longer stands at its level while they
are held. A reviewer who accepts them again restores it, and the same namesake does not hold it again.
On every database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from broker.identity import registry
from broker.identity.service import current, records
from broker.identity.vouching import VouchingService
from broker.store.db import transaction
from broker.store.models import Account, AuditEvent, Vouch
from tests.identity.test_vouching_store import QUESTIONS, World, review_all
from vouching.authorities import AuthorityUnavailable
from vouching.person import ClaimedPerson
from vouching.rules import PROVEN_ELSEWHERE

SAM = ClaimedPerson("Sam", "Taylor", date(1990, 5, 1))


@pytest.fixture
def world(session_factory) -> World:
    return World(session_factory)


def vouched_as(world: World, who: ClaimedPerson) -> tuple[str, str, str]:
    """An applicant raised to P1 by two proven vouchers that they are ``who``, cooling-off over."""
    a, v1, v2 = world.person(proven=False), world.person(), world.person()
    tokens = world.ask(a, (v1, v2), who=who)
    assert world.vouch(tokens[0], v1) == [] and world.vouch(tokens[1], v2) == []
    world.now += timedelta(days=8)
    assert world.settle(a) == "P1"
    return a, v1, v2


def flags(world: World, applicant: str) -> list[AuditEvent]:
    with world.factory() as db:
        query = select(AuditEvent).where(
            AuditEvent.action == "vouch.flagged", AuditEvent.subject == applicant
        )
        return list(db.scalars(query.order_by(AuditEvent.seq)))


def given_to(world: World, applicant: str) -> list[Vouch]:
    with world.factory() as db:
        query = select(Vouch).where(Vouch.applicant_id == applicant, Vouch.voucher_id.is_not(None))
        return list(db.scalars(query.order_by(Vouch.invited_at)))


def test_a_passport_proving_the_person_a_vouched_identity_names_sends_its_vouches_to_a_reviewer(world):
    a, _v1, _v2 = vouched_as(world, SAM)
    proven = world.person(who=SAM)  # Sam Taylor, born 1 May 1990, proves it with a passport

    assert world.level(a) == "P0"  # no longer stands at P1 while the vouches are held
    assert [(v.effective_at, v.review_reason) for v in given_to(world, a)] == [(None, PROVEN_ELSEWHERE)] * 2
    with world.factory() as db:
        assert {v.applicant_id for v in world.service(db).flagged()} == {a}
        vouched = [r for r in records(db, a) if r.route == "vouching"]
        assert [r.level for r in vouched] == ["P1", "P0"]  # settled again: a new record, the old revoked
        assert vouched[0].revoked_at is not None and current(db, a, world.now.date()) is None
        assert db.get(Account, a).identity_level == "P0"
        dropped = db.scalar(
            select(AuditEvent).where(AuditEvent.action == "identity.level_dropped", AuditEvent.subject == a)
        )
        assert (dropped.details["previous"], dropped.details["current"]) == ("P1", "P0")
    events = flags(world, a)
    assert [(e.actor, e.details["proven_accounts"], e.details["counted"]) for e in events] == [
        ("system", [proven], True)
    ] * 2
    assert "Taylor" not in repr([e.details for e in events]) and "1990" not in repr(
        [e.details for e in events]
    )


def test_the_document_proven_persons_own_proof_is_unaffected(world):
    vouched_as(world, SAM)
    proven = world.person(who=SAM)
    assert world.level(proven) == "P2"
    with world.factory() as db:
        [record] = records(db, proven)
        assert (record.route, record.level, record.revoked_at) == ("documents", "P2", None)
    assert flags(world, proven) == []


def test_a_namesake_with_another_date_of_birth_changes_nothing(world):
    a, _v1, _v2 = vouched_as(world, SAM)
    world.person(who=ClaimedPerson("Sam", "Taylor", date(1990, 5, 2)))
    assert world.level(a) == "P1"
    assert flags(world, a) == []
    assert all(v.effective_at is not None for v in given_to(world, a))


def test_someone_proving_their_own_vouched_identity_with_a_passport_reopens_nothing(world):
    """The applicant vouches raised later proves the same name and date of birth with their own
    passport: not a namesake on another account, so their vouches stand as they were."""
    a, _v1, _v2 = vouched_as(world, SAM)
    with transaction(world.factory) as db:
        registry.put_person(db, SAM, {"fraud": "clear", "questions": QUESTIONS}, world.now)
    assert world.prove(a, SAM, "123123123") == "P2"
    assert flags(world, a) == []
    with world.factory() as db:
        assert [r.revoked_at for r in records(db, a) if r.route == "vouching"] == [None]


def test_a_reviewer_accepting_again_restores_the_identity_and_the_same_namesake_does_not_hold_it_again(world):
    a, _v1, _v2 = vouched_as(world, SAM)
    proven = world.person(who=SAM)
    assert review_all(world) == [PROVEN_ELSEWHERE] * 2
    assert world.level(a) == "P1"  # at once: the vouches had served their cooling-off
    with world.factory() as db:
        assert db.get(Account, a).identity_level == "P1"

    world.now += timedelta(days=8)
    assert world.settle(a) == "P1"  # the re-check as vouches come to count holds nothing again
    assert world.prove(proven, SAM, "456456456") == "P2"  # the namesake proves again with another document
    assert world.level(a) == "P1"
    assert len(flags(world, a)) == 2


def test_a_namesake_proven_after_a_reviewer_accepted_holds_the_vouches_again(world):
    """A reviewer weighed the vouches against one person a document proved; a second account proving
    that name and date of birth is news to them, so the vouches go back to review."""
    a, _v1, _v2 = vouched_as(world, SAM)
    first = world.person(who=SAM)
    review_all(world)
    second = world.person(who=SAM)
    assert world.level(a) == "P0"
    assert [e.details["proven_accounts"] for e in flags(world, a)] == [[first]] * 2 + [[first, second]] * 2


def test_a_reviewer_refusing_leaves_the_identity_without_the_vouches(world):
    a, _v1, _v2 = vouched_as(world, SAM)
    world.person(who=SAM)
    review_all(world, accept=False)
    world.now += timedelta(days=8)
    assert world.settle(a) == "P0"
    assert all(v.refused_at is not None for v in given_to(world, a))


def test_an_authority_that_does_not_answer_leaves_the_proof_done_and_the_identity_settled_later(
    world, monkeypatch
):
    """Scoring the re-opened identity asks the authorities: one that does not answer must not fail the
    namesake's own proof. The vouches are held at once, and the identity is settled at its next read."""
    a, _v1, _v2 = vouched_as(world, SAM)
    real = VouchingService._record

    def unanswered(self, request, vouches, effective):  # type: ignore[no-untyped-def]
        raise AuthorityUnavailable("fraud check timed out")

    monkeypatch.setattr(VouchingService, "_record", unanswered)
    proven = world.person(who=SAM)  # the passport check completes and is kept

    assert world.level(proven) == "P2"
    assert [(v.effective_at, v.review_reason) for v in given_to(world, a)] == [(None, PROVEN_ELSEWHERE)] * 2
    monkeypatch.setattr(VouchingService, "_record", real)
    assert world.settle(a) == "P0"  # the next read settles it without the held vouches
