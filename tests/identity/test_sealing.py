"""Sealing records stored before document numbers were masked, on every database: a document that
proved an identity before fingerprints were kept (migration 0007) proves that account only once
sealed, the first of two accounts one document proved keeps it, and no number is left in clear,
while nothing the broker needs is lost."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from broker.identity import registry
from broker.identity.sealing import DocumentSealer, Sealing
from broker.identity.service import DocumentInUse, IdentityService, name_parts, person_key
from broker.store.db import transaction
from broker.store.models import Account, AuditEvent, IdentityRecord, ProvenDocument
from tests.identity import services
from vouching.documents import fingerprint
from vouching.person import Address, ClaimedPerson

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
KEY = b"test document key"
JANE = ClaimedPerson("Jane", "Smith", date(1985, 3, 12))
QUESTIONS = [
    {"id": "q1", "text": "First?", "options": ["a", "b"], "answer": "a"},
    {"id": "q2", "text": "Second?", "options": ["c", "d"], "answer": "d"},
]
NUMBER = "123456789"


def legacy_record(
    db,
    account_id: str,
    *,
    completed_at: datetime | None,
    level: str = "P2",
    revoked: bool = False,
    number: str = NUMBER,
    person: ClaimedPerson = JANE,
) -> IdentityRecord:
    """A passport check as the broker stored it before numbers were masked and fingerprints kept."""
    if db.get(Account, account_id) is None:
        db.add(Account(id=account_id, email=f"{account_id}@example.org", created_at=NOW))
        db.flush()
    entry: dict[str, Any] = {
        "kind": "uk_passport",
        "strength": 4,
        "validity": 2,
        "counts": True,
        "checks": ["check_digits", "in_date", "matches_claim", "authority_confirmed"],
        "problems": [],
        "fraud_indicator": False,
        "document": {"documentNumber": number, "expiryDate": "2031-01-01", "icaoIssuerCode": "GBR"},
        "checked_at": NOW.isoformat(),
        "about": person_key(person),
    }
    record = IdentityRecord(
        account_id=account_id,
        version=1,
        route="documents",
        started_at=(completed_at or NOW) - timedelta(minutes=5),
        completed_at=completed_at,
        names=[{"nameParts": name_parts(person), "validFrom": None, "validUntil": None}],
        birth_date=person.birth_date,
        addresses=[],
        evidence=[entry],
        questions=[],
        activity=0,
        fraud=1 if completed_at else 0,
        verification=2 if completed_at else 0,
        level=level if completed_at else "P0",
        profile="M1A" if completed_at and level == "P2" else None,
        revoked_at=NOW if revoked else None,
    )
    db.add(record)
    db.flush()
    return record


def identity_service(db) -> IdentityService:
    return services.identity_service(db, lambda: NOW, KEY)


def seal(session_factory, batch: int = 200) -> Sealing:
    return DocumentSealer(session_factory, KEY, lambda: NOW).run(batch)


def numbers_in_clear(session_factory) -> list[str]:
    """Every number as the database holds it: the raw JSON of the records and the audit log."""
    with session_factory() as db:
        stored = db.execute(text("SELECT evidence FROM identity_record")).scalars().all()
        stored += db.execute(text("SELECT details FROM audit_event")).scalars().all()
    return [n for n in (NUMBER, "987654321") if n in repr(stored)]


def test_a_document_proven_before_fingerprints_proves_one_account_once_sealed(session_factory):
    with transaction(session_factory) as db:
        first = legacy_record(db, "first", completed_at=NOW - timedelta(days=400))
        db.add(Account(id="second", email="second@example.org", created_at=NOW))
    with transaction(session_factory) as db:  # the gap: nothing stops a second account using it
        identity_service(db).check_document_free(db.get(Account, "second"), "uk_passport", NUMBER)

    done = seal(session_factory)

    assert (done.sealed, done.registered, done.reused) == (1, 1, [])
    print_ = fingerprint(KEY, "uk_passport", NUMBER)
    with transaction(session_factory) as db:
        with pytest.raises(DocumentInUse):
            identity_service(db).check_document_free(db.get(Account, "second"), "uk_passport", NUMBER)
        kept = db.get(ProvenDocument, print_)
        assert (kept.account_id, kept.identity_record_id) == ("first", first.id)
        assert kept.proven_at == first.completed_at  # when it proved the identity, not today
        [entry] = db.get(IdentityRecord, first.id).evidence
        assert entry["document"]["documentNumber"] == "******789" and entry["fingerprint"] == print_
        assert (entry["strength"], entry["validity"], entry["counts"]) == (4, 2, True)
    assert numbers_in_clear(session_factory) == []


def test_when_one_document_proved_two_accounts_the_first_to_complete_keeps_it(session_factory):
    with transaction(session_factory) as db:  # the later one stored first: order is by completion
        later = legacy_record(db, "later", completed_at=NOW - timedelta(days=10))
        earlier = legacy_record(db, "earlier", completed_at=NOW - timedelta(days=300))
        legacy_record(db, "other", completed_at=NOW - timedelta(days=100), number="987654321")

    done = seal(session_factory, batch=1)  # one record per transaction: the pages join up

    assert done.sealed == 3 and done.registered == 2
    assert done.reused == [{"account": "later", "proven_account": "earlier", "kind": "uk_passport"}]
    with session_factory() as db:
        assert db.get(ProvenDocument, fingerprint(KEY, "uk_passport", NUMBER)).account_id == "earlier"
        assert db.get(IdentityRecord, later.id).level == "P2"  # complete: reported, never rewritten
        assert db.get(IdentityRecord, earlier.id).evidence[0]["fingerprint"]
        reused = db.scalars(select(AuditEvent).where(AuditEvent.action == "identity.document_reused")).all()
        assert [(e.actor, e.subject, e.details["proven_account"]) for e in reused] == [
            ("operator", "later", "earlier")
        ]
    assert numbers_in_clear(session_factory) == []


def test_failed_revoked_and_unfinished_checks_are_sealed_without_taking_the_document(session_factory):
    """A check that proved nothing, or was revoked, leaves its document free; an attempt under way
    keeps its fingerprint and registers the document when it completes, after its number is gone."""
    with transaction(session_factory) as db:
        legacy_record(db, "failed", completed_at=NOW - timedelta(days=3), level="P0")
        legacy_record(db, "revoked", completed_at=NOW - timedelta(days=2), revoked=True)
        under_way = legacy_record(db, "under_way", completed_at=None)
        registry.put_person(db, JANE, {"fraud": "clear", "questions": QUESTIONS}, NOW)

    done = seal(session_factory)

    assert (done.sealed, done.registered, done.reused) == (3, 0, [])
    assert numbers_in_clear(session_factory) == []
    with session_factory() as db:
        assert db.scalars(select(ProvenDocument)).all() == []
    with transaction(session_factory) as db:
        service, record = identity_service(db), db.get(IdentityRecord, under_way.id)
        service.add_address(record, [Address("10", "Downing Street", "London", "SW1A 2AA", date(2015, 1, 1))])
        service.questions(record)
        service.answer(record, {"q1": "a", "q2": "d"})
        assert service.complete(record, db.get(Account, "under_way")).level == "P2"
    with session_factory() as db:
        assert db.get(ProvenDocument, fingerprint(KEY, "uk_passport", NUMBER)).account_id == "under_way"


def test_an_attempt_begun_before_sealing_is_sealed_as_it_completes(session_factory):
    with transaction(session_factory) as db:
        under_way = legacy_record(db, "racing", completed_at=None)
        registry.put_person(db, JANE, {"fraud": "clear", "questions": QUESTIONS}, NOW)
    with transaction(session_factory) as db:
        service, record = identity_service(db), db.get(IdentityRecord, under_way.id)
        service.add_address(record, [Address("10", "Downing Street", "London", "SW1A 2AA", date(2015, 1, 1))])
        service.questions(record)
        service.answer(record, {"q1": "a", "q2": "d"})
        assert service.complete(record, db.get(Account, "racing")).level == "P2"
    assert numbers_in_clear(session_factory) == []
    assert seal(session_factory) == Sealing()


def test_running_again_changes_nothing(session_factory):
    with transaction(session_factory) as db:
        legacy_record(db, "once", completed_at=NOW - timedelta(days=1))
    assert seal(session_factory).sealed == 1
    assert seal(session_factory) == Sealing()
    with session_factory() as db:
        runs = db.scalars(select(AuditEvent).where(AuditEvent.action == "identity.documents_sealed")).all()
        assert [(e.actor, e.details) for e in runs] == [
            ("operator", {"records": 1, "registered": 1, "reused": 0})
        ]


def test_sealing_needs_the_document_key(session_factory):
    with pytest.raises(ValueError, match="document key"):
        DocumentSealer(session_factory, b"", lambda: NOW)
