"""People for vouching tests: accounts whose identity was proven with a passport."""

from __future__ import annotations

import re
import secrets
import subprocess
import uuid
from datetime import date

from sqlalchemy import select

from broker.deps import identity_check, utc_now
from broker.identity import registry
from broker.store.db import transaction
from broker.store.models import Account, OutboxMessage
from vouching.authorities import DocumentAnswer
from vouching.documents import format_td3, parse_td3
from vouching.person import Address, ClaimedPerson
from vouching.proofing import passport_check

QUESTIONS = [
    {"id": "q", "text": "Pick b", "options": ["a", "b"], "answer": "b"},
    {"id": "r", "text": "Pick c", "options": ["c", "d"], "answer": "c"},
]


def proven_person(  # type: ignore[no-untyped-def]
    broker, given: str, family: str, born: date, postcode: str, *, passport: str | None = None
) -> str:
    """An account holding a P2 identity proven by passport (its own, unless ``passport`` names one),
    living at ``postcode``; returns its email."""
    email = f"{given.lower()}-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(email)
    person = ClaimedPerson(given, family, born)
    today = broker.services.clock().date()
    number = passport or f"{secrets.randbelow(10**9):09d}"
    with transaction(broker.db) as db:
        registry.put_person(db, person, {"fraud": "clear", "questions": QUESTIONS}, utc_now())
        account = db.scalar(select(Account).filter_by(email=email))
        service = identity_check(db, broker.services)
        record = service.start(account, None)
        mrz = parse_td3(
            *format_td3(
                surname=family,
                given_names=given,
                document_number=number,
                birth_date=born,
                expiry_date=date(2034, 1, 1),
            ),
            today=today,
        )
        check = passport_check(mrz, person, DocumentAnswer("confirmed", "test"), today, truncated=False)
        service.add_document(record, person, check, {"documentNumber": number, "expiryDate": "2034-01-01"})
        service.add_address(record, [Address("1", "Some Street", "Cardiff", postcode, date(2010, 1, 1))])
        service.questions(record)
        service.answer(record, {"q": "b", "r": "c"})
        assert service.complete(record, account).level == "P2"
    return email


def invitation_link(broker, email: str) -> str:  # type: ignore[no-untyped-def]
    with broker.db() as db:
        message = db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == email, OutboxMessage.template == "vouch_invitation")
            .order_by(OutboxMessage.created_at.desc())
        ).first()
        assert message is not None, f"no invitation for {email}"
        link = str(message.personalisation["link"])
    assert re.match(rf"{re.escape(broker.url)}/vouch/[\w-]+$", link)
    return link


VOUCH_FORM = {
    "relationship": "friend",
    "known_years": "6",
    "lives_with": "no",
    "confirm_details": "yes",
    "acknowledge": "yes",
    "decision": "vouch",
}


def applicant_form() -> dict[str, str]:
    """An applicant's details, at a house of their own: the broker counts the people vouched in at
    one address (three at most), and one live broker serves every test of a run, in any order."""
    return {
        "given_names": "Sam",
        "family_name": "Taylor",
        "birth_date-day": "1",
        "birth_date-month": "5",
        "birth_date-year": "1990",
        "building": unique_building(),
        "street": "Bute Street",
        "town": "Cardiff",
        "postcode": "CF10 5AA",
        "lived_from": "2019",
    }


def unique_building() -> str:
    return str(100 + secrets.randbelow(900_000))


def broker_command(broker, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    """Run the ``broker`` command against this live broker's database, as an operator would."""
    from tests.command import run_broker

    return run_broker(
        list(args), env={"BROKER_DATABASE_URL": broker.settings.database_url, "BROKER_ISSUER": broker.url}
    )
