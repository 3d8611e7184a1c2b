"""The demo's person on the simulated registry: a passport and records the demo can prove."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from broker.identity import registry
from vouching.person import ClaimedPerson

DEMO_PERSON = ClaimedPerson("Alex", "Demo", date(1990, 1, 1))
DEMO_PASSPORT_NUMBER = "123456789"
DEMO_PASSPORT_EXPIRY = date(2035, 1, 1)
DEMO_QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "bank",
        "text": "Which bank is your current account with?",
        "options": ["Alder Bank", "Birch Bank", "Cedar Bank"],
        "answer": "Birch Bank",
    },
    {
        "id": "loan",
        "text": "How much is your monthly loan payment?",
        "options": ["£100", "£200", "I do not have a loan"],
        "answer": "I do not have a loan",
    },
]


def seed_identity(db: Session, now: datetime) -> None:
    passport = {
        "family_name": DEMO_PERSON.family_name,
        "given_names": DEMO_PERSON.given_names,
        "birth_date": DEMO_PERSON.birth_date.isoformat(),
        "expiry_date": DEMO_PASSPORT_EXPIRY.isoformat(),
        "status": "valid",
    }
    registry.put(db, "uk_passport", DEMO_PASSPORT_NUMBER, passport, now)
    records = {"fraud": "clear", "active_since": "2012-09-01", "questions": DEMO_QUESTIONS}
    registry.put_person(db, DEMO_PERSON, records, now)


def banner() -> str:
    answers = ", ".join(q["answer"] for q in DEMO_QUESTIONS)
    return (
        "  Identity check (simulated passport office, for the demo only):\n"
        f"    Name:            {DEMO_PERSON.given_names} {DEMO_PERSON.family_name}, "
        f"born {DEMO_PERSON.birth_date:%-d %B %Y}\n"
        f"    Passport number: {DEMO_PASSPORT_NUMBER}, expires {DEMO_PASSPORT_EXPIRY:%-d %B %Y}\n"
        f"    Answers:         {answers}\n"
    )
