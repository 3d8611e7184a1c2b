"""Identity records on every database: an attempt is a new version, a completed record never changes,
and the person's identity is the best completed record still in date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from broker.identity import registry
from broker.identity.service import DocumentInUse, current, level
from broker.store.db import transaction
from broker.store.models import Account, AuditEvent, IdentityRecord, ProvenDocument
from tests.identity.services import identity_service
from vouching.authorities import DocumentAnswer
from vouching.documents import fingerprint, format_td3, parse_td3
from vouching.person import Address, ClaimedPerson
from vouching.proofing import passport_check

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DOCUMENT_KEY = b"test document key"
JANE = ClaimedPerson("Jane", "Smith", date(1985, 3, 12))
QUESTIONS = [
    {"id": "q1", "text": "First?", "options": ["a", "b"], "answer": "a"},
    {"id": "q2", "text": "Second?", "options": ["c", "d"], "answer": "d"},
]
HOME = Address("10", "Downing Street", "London", "SW1A 2AA", date(2015, 1, 1))


def _prove(
    db, account: Account, clock, *, answers: dict[str, str], confirmed: bool = True, number: str = "123456789"
) -> IdentityRecord:
    service = identity_service(db, clock, DOCUMENT_KEY)
    record = service.start(account, None)
    mrz = parse_td3(
        *format_td3(
            surname="Smith",
            given_names="Jane",
            document_number=number,
            birth_date=JANE.birth_date,
            expiry_date=date(2031, 1, 1),
        ),
        today=clock().date(),
    )
    answer = DocumentAnswer("confirmed" if confirmed else "no_match", "test")
    check = passport_check(mrz, JANE, answer, clock().date(), truncated=False)
    service.add_document(record, JANE, check, {"documentNumber": number, "expiryDate": "2031-01-01"})
    service.add_address(record, [HOME])
    service.questions(record)
    service.answer(record, answers)
    service.complete(record, account)
    return record


def test_a_failed_attempt_is_kept_and_does_not_take_away_a_proven_identity(session_factory):
    clock = [NOW]
    with transaction(session_factory) as db:
        db.add(Account(id="acc", email="jane@example.org", created_at=NOW))
        registry.put_person(db, JANE, {"fraud": "clear", "questions": QUESTIONS}, NOW)
    with transaction(session_factory) as db:
        account = db.get(Account, "acc")
        first = _prove(db, account, lambda: clock[0], answers={"q1": "a", "q2": "d"})
        assert (first.version, first.level, first.profile) == (1, "P2", "M1A")
        assert account.identity_level == "P2"
    clock[0] = NOW + timedelta(days=30)
    with transaction(session_factory) as db:
        account = db.get(Account, "acc")
        second = _prove(db, account, lambda: clock[0], answers={}, confirmed=False)
        assert (second.version, second.level) == (2, "P0")
        assert account.identity_level == "P2"  # the earlier check still stands
    with session_factory() as db:
        versions = db.scalars(select(IdentityRecord).filter_by(account_id="acc").order_by("version")).all()
        assert [(r.version, r.level) for r in versions] == [(1, "P2"), (2, "P0")]
        assert versions[0].completed_at == NOW  # untouched by the later attempt
        assert current(db, "acc", clock[0].date()).version == 1


def test_an_identity_past_its_recheck_date_no_longer_counts(session_factory):
    with transaction(session_factory) as db:
        db.add(Account(id="acc2", email="jane2@example.org", created_at=NOW))
        registry.put_person(db, JANE, {"fraud": "clear", "questions": QUESTIONS}, NOW)
    with transaction(session_factory) as db:
        record = _prove(db, db.get(Account, "acc2"), lambda: NOW, answers={"q1": "a", "q2": "d"})
        recheck = record.recheck_by
    assert recheck == date(2029, 11, 22)  # three years on, before the passport expires
    with session_factory() as db:
        assert level(db, "acc2", recheck) == "P2"
        assert level(db, "acc2", recheck + timedelta(days=1)) == "P0"


def test_audit_events_record_the_check_but_no_personal_data(session_factory):
    with transaction(session_factory) as db:
        db.add(Account(id="acc3", email="jane3@example.org", created_at=NOW))
        registry.put_person(db, JANE, {"questions": QUESTIONS}, NOW)
    with transaction(session_factory) as db:
        _prove(db, db.get(Account, "acc3"), lambda: NOW, answers={"q1": "a", "q2": "d"})
    with session_factory() as db:
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.subject == "acc3").order_by(AuditEvent.seq)
        ).all()
        actions = [e.action for e in events]
        assert actions == ["identity.check_started", "identity.evidence_checked", "identity.check_completed"]
        text = repr([e.details for e in events])
        assert "Smith" not in text and "1985" not in text and "123456789" not in text


def test_one_passport_proves_one_account(session_factory):
    """The same passport on a second account proves nothing there (refused before the passport office
    is asked, and not counted if it got that far), keeps an audit event naming the first account, and
    is stored only as a keyed fingerprint."""
    with transaction(session_factory) as db:
        for n in (1, 2):
            db.add(Account(id=f"twin{n}", email=f"twin{n}@example.org", created_at=NOW))
        registry.put_person(db, JANE, {"fraud": "clear", "questions": QUESTIONS}, NOW)
    answers = {"q1": "a", "q2": "d"}
    with transaction(session_factory) as db:
        assert _prove(db, db.get(Account, "twin1"), lambda: NOW, answers=answers).level == "P2"
    with transaction(session_factory) as db:
        service = identity_service(db, lambda: NOW, DOCUMENT_KEY)
        service.check_document_free(db.get(Account, "twin1"), "uk_passport", "123456789")  # its own
        with pytest.raises(DocumentInUse):
            service.check_document_free(db.get(Account, "twin2"), "uk_passport", "1234 56789<")
    with transaction(session_factory) as db:
        second = _prove(db, db.get(Account, "twin2"), lambda: NOW, answers=answers)
        assert second.level == "P0" and db.get(Account, "twin2").identity_level == "P0"
        assert (
            "this passport has already been used to prove an identity on another account"
            in (second.evidence[0]["problems"])
        )
    with transaction(session_factory) as db:  # the first account proves itself again with it
        assert _prove(db, db.get(Account, "twin1"), lambda: NOW, answers=answers).level == "P2"
    with session_factory() as db:
        [kept] = db.scalars(select(ProvenDocument)).all()
        assert (kept.account_id, kept.kind) == ("twin1", "uk_passport")
        assert kept.fingerprint == fingerprint(DOCUMENT_KEY, "uk_passport", "123456789")
        assert "123456789" not in repr(vars(kept))
        reused = db.scalars(select(AuditEvent).where(AuditEvent.action == "identity.document_reused")).all()
        assert [(e.subject, e.details["proven_account"]) for e in reused] == [("twin2", "twin1")] * 2
        assert "123456789" not in repr([e.details for e in reused])


def test_a_failed_check_keeps_no_document(session_factory):
    """Only a document that proved an identity is kept: a check that ended at P0 leaves it free."""
    with transaction(session_factory) as db:
        for n in (1, 2):
            db.add(Account(id=f"try{n}", email=f"try{n}@example.org", created_at=NOW))
        registry.put_person(db, JANE, {"fraud": "clear", "questions": QUESTIONS}, NOW)
    with transaction(session_factory) as db:
        assert _prove(db, db.get(Account, "try1"), lambda: NOW, answers={}).level == "P0"
    with transaction(session_factory) as db:
        assert _prove(db, db.get(Account, "try2"), lambda: NOW, answers={"q1": "a", "q2": "d"}).level == "P2"


def test_an_identity_service_needs_its_document_key(session_factory):
    with session_factory() as db, pytest.raises(ValueError, match="document key"):
        identity_service(db, lambda: NOW, b"")


def test_a_checked_document_is_stored_without_its_number(session_factory):
    """What stays in the record is what the broker decided, the masked number and the fingerprint:
    read back as the database holds it, the number is nowhere."""
    with transaction(session_factory) as db:
        db.add(Account(id="acc4", email="jane4@example.org", created_at=NOW))
        registry.put_person(db, JANE, {"fraud": "clear", "questions": QUESTIONS}, NOW)
    with transaction(session_factory) as db:
        _prove(db, db.get(Account, "acc4"), lambda: NOW, answers={"q1": "a", "q2": "d"}, number="987654321")
    with session_factory() as db:
        stored = db.execute(text("SELECT evidence FROM identity_record WHERE account_id = 'acc4'")).scalar()
        assert "987654321" not in str(stored)
        [entry] = db.scalar(select(IdentityRecord.evidence).filter_by(account_id="acc4"))
        assert entry["document"] == {"documentNumber": "******321", "expiryDate": "2031-01-01"}
        assert entry["fingerprint"] == fingerprint(DOCUMENT_KEY, "uk_passport", "987654321")
        assert (entry["strength"], entry["validity"], entry["counts"]) == (4, 2, True)
        assert db.get(ProvenDocument, entry["fingerprint"]).account_id == "acc4"
