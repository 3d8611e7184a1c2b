"""The identity check by documents as a service (broker/identity/documents.py), on every database:
each step commits itself and says where the journey goes; a problem the person can correct is raised
with the form field it belongs to, and nothing of the step is kept; the production guard refuses the
journey when only the simulated authorities exist, but not what needs no authority."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from broker.identity import registry, wiring
from broker.identity.documents import IdentityCheck, Next
from broker.identity.errors import DocumentInUse, DocumentProblem, ProofingUnavailable
from broker.store.models import Account, AuditEvent, IdentityRecord, ProvenDocument
from vouching.documents import fingerprint, format_td3, parse_td3
from vouching.person import Address, ClaimedPerson
from vouching.rules import VouchingPolicy

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
KEY = b"test document key"
JANE = ClaimedPerson("Jane", "Smith", date(1985, 3, 12))
QUESTIONS = [
    {"id": "q", "text": "?", "options": ["a", "b"], "answer": "b"},
    {"id": "r", "text": "?", "options": ["c", "d"], "answer": "c"},
]
HOME = Address("1", "Street", "Cardiff", "CF10 1AA", date(2010, 1, 1))


def check(db, env: str = "test") -> IdentityCheck:
    return wiring.identity_check(
        db,
        lambda: NOW,
        registry.simulated_authorities,
        KEY,
        env=env,
        policy=VouchingPolicy(),
        issuer="http://b",
    )


def account(factory, account_id: str) -> None:
    with factory() as db:
        db.add(Account(id=account_id, email=f"{account_id}@example.org", created_at=NOW))
        registry.put_person(db, JANE, {"fraud": "clear", "questions": QUESTIONS}, NOW)
        passport = {
            "family_name": JANE.family_name,
            "given_names": JANE.given_names,
            "birth_date": JANE.birth_date.isoformat(),
            "expiry_date": "2034-01-01",
            "status": "valid",
        }
        registry.put(db, "uk_passport", "123456789", passport, NOW)
        db.commit()


def mrz(number: str = "123456789"):
    lines = format_td3(
        surname=JANE.family_name,
        given_names=JANE.given_names,
        document_number=number,
        birth_date=JANE.birth_date,
        expiry_date=date(2034, 1, 1),
    )
    return parse_td3(*lines, today=NOW.date())


def test_a_passport_check_walks_to_its_result_and_each_step_is_kept(session_factory):
    account(session_factory, "a1")
    with session_factory() as db:
        service, person = check(db), db.get(Account, "a1")
        service.start_attempt(person, None)
        step = service.check_passport(person, JANE, mrz(), truncated=False)
    with session_factory() as db:  # a new session sees what the step kept
        record = db.scalar(select(IdentityRecord).filter_by(account_id="a1"))
        assert record is not None and len(record.evidence) == 1
    assert step is Next.ADDRESS
    with session_factory() as db:
        service, person = check(db), db.get(Account, "a1")
        assert service.give_address(person, HOME) is Next.QUESTIONS
        assert service.answer_questions(person, {"q": "b", "r": "c"}) is Next.RESULT
    with session_factory() as db:
        assert check(db).history("a1")[0].level == "P2"
        assert db.get(Account, "a1").identity_level == "P2"


@pytest.mark.parametrize(
    ("issued", "expires", "field"),
    [
        (date(2020, 5, 1), date(2026, 4, 30), "expiry_date"),
        (date(2027, 1, 1), date(2030, 4, 30), "issue_date"),
    ],
)
def test_a_licence_problem_names_its_field_and_keeps_nothing(session_factory, issued, expires, field):
    account(session_factory, "a2")
    with session_factory() as db:
        service, person = check(db), db.get(Account, "a2")
        service.start_attempt(person, None)
        with pytest.raises(DocumentProblem) as raised:
            service.check_licence(person, JANE, "SMITH853125J99AB", issued, expires)
        assert raised.value.field == field
    with session_factory() as db:
        assert check(db).attempt_of("a2").evidence == []


def test_a_document_that_proved_another_account_is_refused_beside_its_number(session_factory):
    account(session_factory, "a3")
    account_b = "a4"
    with session_factory() as db:
        db.add(Account(id=account_b, email="a4@example.org", created_at=NOW))
        db.commit()
    with session_factory() as db:
        service, person = check(db), db.get(Account, "a3")
        service.start_attempt(person, None)
        record = service.attempt_of("a3")
        service.check_document_free(person, "uk_passport", "123456789")  # free so far
        db.add(
            ProvenDocument(
                fingerprint=fingerprint(KEY, "uk_passport", "123456789"),
                kind="uk_passport",
                account_id=account_b,
                identity_record_id=record.id,
                proven_at=NOW,
            )
        )
        db.commit()
    with session_factory() as db:
        service, person = check(db), db.get(Account, "a3")
        with pytest.raises(DocumentInUse) as raised:
            service.check_passport(person, JANE, mrz(), truncated=False)
        assert raised.value.field == "mrz_line1"
    with session_factory() as db:  # the refusal is kept, though the step failed
        kept = db.scalars(select(AuditEvent).filter_by(action="identity.document_reused")).all()
        assert [e.subject for e in kept] == ["a3"]
        assert check(db).attempt_of("a3").evidence == []


def test_in_production_the_simulated_authorities_check_nobody(session_factory):
    account(session_factory, "a5")
    with session_factory() as db:
        person = db.get(Account, "a5")
        with pytest.raises(ProofingUnavailable):
            check(db, env="production").start_attempt(person, None)
        vouching = wiring.vouching_service(
            db,
            lambda: NOW,
            registry.simulated_authorities,
            env="production",
            policy=VouchingPolicy(),
            issuer="http://b",
        )
        with pytest.raises(ProofingUnavailable):
            vouching.ask(person, JANE, HOME, None)
        with pytest.raises(ProofingUnavailable):
            vouching.request_of("a5")
        # What needs no authority still works: revoking an identity that gave no vouches.
        assert vouching.revoke_identity(person, "test", "operator") == []
