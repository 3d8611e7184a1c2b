"""Identity records on every database: an attempt is a new version, a completed record never changes,
and the person's identity is the best completed record still in date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from broker.identity import registry
from broker.identity.service import IdentityService, current, level
from broker.store.db import transaction
from broker.store.models import Account, AuditEvent, IdentityRecord
from vouching.authorities import DocumentAnswer
from vouching.documents import format_td3, parse_td3
from vouching.person import Address, ClaimedPerson
from vouching.proofing import passport_check

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
JANE = ClaimedPerson("Jane", "Smith", date(1985, 3, 12))
QUESTIONS = [
    {"id": "q1", "text": "First?", "options": ["a", "b"], "answer": "a"},
    {"id": "q2", "text": "Second?", "options": ["c", "d"], "answer": "d"},
]
HOME = Address("10", "Downing Street", "London", "SW1A 2AA", date(2015, 1, 1))


def _prove(db, account: Account, clock, *, answers: dict[str, str], confirmed: bool = True) -> IdentityRecord:
    service = IdentityService(db, clock, registry.simulated_authorities(db))
    record = service.start(account, None)
    mrz = parse_td3(
        *format_td3(
            surname="Smith",
            given_names="Jane",
            document_number="123456789",
            birth_date=JANE.birth_date,
            expiry_date=date(2031, 1, 1),
        ),
        today=clock().date(),
    )
    answer = DocumentAnswer("confirmed" if confirmed else "no_match", "test")
    check = passport_check(mrz, JANE, answer, clock().date(), truncated=False)
    service.add_document(record, JANE, check, {"documentNumber": "123456789", "expiryDate": "2031-01-01"})
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
