"""A person the simulated authorities know: their passport, driving licence and records."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date

from broker.deps import utc_now
from broker.identity import registry
from broker.store.db import transaction
from vouching.person import ClaimedPerson

QUESTIONS = [
    {
        "id": "bank",
        "text": "Which bank is your current account with?",
        "options": ["Alder", "Birch", "Cedar"],
        "answer": "Birch",
    },
    {
        "id": "loan",
        "text": "How much is your monthly loan payment?",
        "options": ["£100", "£200", "None"],
        "answer": "None",
    },
]


@dataclass
class KnownPerson:
    given_names: str = "Jane Elizabeth"
    family_name: str = "Smith"
    birth_date: date = date(1985, 3, 12)
    passport_number: str = field(default_factory=lambda: f"{secrets.randbelow(10**9):09d}")
    passport_expiry: date = date(2031, 1, 1)
    licence_number: str = "SMITH853125JE9AB"
    licence_issued: date = date(2020, 5, 1)
    licence_expiry: date = date(2030, 4, 30)
    passport_status: str = "valid"
    records: dict[str, object] = field(
        default_factory=lambda: {"fraud": "clear", "active_since": "2010-06-01", "questions": QUESTIONS}
    )

    def document(self, expiry: date) -> dict[str, str]:
        return {
            "family_name": self.family_name,
            "given_names": self.given_names,
            "birth_date": self.birth_date.isoformat(),
            "expiry_date": expiry.isoformat(),
        }

    def register(self, broker) -> KnownPerson:  # type: ignore[no-untyped-def]
        now = utc_now()
        with transaction(broker.db) as db:
            passport = {**self.document(self.passport_expiry), "status": self.passport_status}
            registry.put(db, "uk_passport", self.passport_number, passport, now)
            registry.put(
                db, "uk_driving_licence", self.licence_number, self.document(self.licence_expiry), now
            )
            person = ClaimedPerson(self.given_names, self.family_name, self.birth_date)
            registry.put_person(db, person, dict(self.records), now)
        return self

    def date_fields(self, name: str, value: date) -> dict[str, str]:
        return {
            f"{name}-day": str(value.day),
            f"{name}-month": str(value.month),
            f"{name}-year": str(value.year),
        }

    def passport_form(self, confirmed: bool = True) -> dict[str, str]:
        """What a person reads off the passport's photo page; ``confirmed``: and confirms on the
        check-your-answers page (the page that comes first shows the answers to check)."""
        return {
            "passport_number": self.passport_number,
            "family_name": self.family_name,
            "given_names": self.given_names,
            **self.date_fields("birth_date", self.birth_date),
            **self.date_fields("expiry_date", self.passport_expiry),
            **({"confirmed": "yes"} if confirmed else {}),
        }

    def licence_form(self) -> dict[str, str]:
        return {
            "confirmed": "yes",
            "given_names": self.given_names,
            "family_name": self.family_name,
            **self.date_fields("birth_date", self.birth_date),
            "licence_number": self.licence_number,
            **self.date_fields("issue_date", self.licence_issued),
            **self.date_fields("expiry_date", self.licence_expiry),
        }


def fill_date(page, legend: str, value: date) -> None:  # type: ignore[no-untyped-def]
    """A GOV.UK date input in a browser, found by its legend."""
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(value.day))
    group.get_by_label("Month").fill(str(value.month))
    group.get_by_label("Year").fill(str(value.year))


def fill_passport(  # type: ignore[no-untyped-def]
    page, number: str, family_name: str, given_names: str, born: date, expires: date
) -> None:
    """The passport page in a browser, as a person copies it from the photo page, then on to check
    the answers and confirm them."""
    page.get_by_label("Passport number").fill(number)
    page.get_by_label("Surname").fill(family_name)
    page.get_by_label("Given names").fill(given_names)
    fill_date(page, "Date of birth", born)
    fill_date(page, "Expiry date", expires)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm and check my details").click()


ADDRESS_FORM = {
    "building": "10",
    "street": "Downing Street",
    "town": "London",
    "postcode": "sw1a2aa",
    "lived_from": "2015",
}
RIGHT_ANSWERS = {"answer-bank": "Birch", "answer-loan": "None"}
