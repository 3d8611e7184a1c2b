"""The identity pages' forms: their fields, and reading what a person typed into values the identity
check takes (a name and birth date, a document's details, an address), each problem named for its field.
The vouching pages read names and addresses with the same functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import Request
from fastapi.responses import Response

from broker.deps import Form, ServicesDep
from broker.identity.documents import Next
from broker.identity.errors import FieldError
from broker.web.i18n import N_, _, upper_first
from broker.web.vouch_words import reason_words
from broker.webkit.pages import form_page
from vouching.levels import LEVEL_WORDS as ALL_LEVEL_WORDS
from vouching.levels import NO_IDENTITY
from vouching.person import Address, ClaimedPerson, normalise_postcode

LEVEL_WORDS = {level: words for level, words in ALL_LEVEL_WORDS.items() if level != NO_IDENTITY}

DOCUMENT_CHOICES = {
    "name": "document",
    "legend": N_("Which photo ID do you have?"),
    "options": [
        ("passport", N_("UK passport")),
        ("driving_licence", N_("UK photocard driving licence")),
        ("none", N_("I do not have photo ID")),
    ],
}
NAME_FIELDS = [
    {"name": "given_names", "label": N_("First and middle names"), "autocomplete": "given-name"},
    {"name": "family_name", "label": N_("Last name"), "autocomplete": "family-name"},
    {
        "name": "birth_date",
        "label": N_("Date of birth"),
        "type": "date",
        "hint": N_("For example, 27 3 1987"),
    },
]
PASSPORT_FIELDS = [
    *NAME_FIELDS,
    {
        "name": "mrz_line1",
        "label": N_("Line 1 of the code at the bottom of your photo page"),
        "hint": N_("44 letters, numbers and < symbols, starting with P<GBR"),
    },
    {"name": "mrz_line2", "label": N_("Line 2 of the code at the bottom of your photo page")},
]
LICENCE_FIELDS = [
    *NAME_FIELDS,
    {
        "name": "licence_number",
        "label": N_("Licence number"),
        "hint": N_("16 characters, in section 5 of the licence"),
    },
    {
        "name": "issue_date",
        "label": N_("Issue date"),
        "type": "date",
        "hint": N_("In section 4a of the licence"),
    },
    {
        "name": "expiry_date",
        "label": N_("Valid until"),
        "type": "date",
        "hint": N_("In section 4b of the licence"),
    },
]
ADDRESS_FIELDS = [
    {"name": "building", "label": N_("Building number or name"), "autocomplete": "address-line1"},
    {"name": "street", "label": N_("Street"), "autocomplete": "address-line2"},
    {"name": "town", "label": N_("Town or city"), "autocomplete": "address-level2"},
    {"name": "postcode", "label": N_("Postcode"), "autocomplete": "postal-code"},
    {"name": "lived_from", "label": N_("Year you started living at this address"), "inputmode": "numeric"},
]


@dataclass(frozen=True)
class Step:
    """One page of the journey: its heading, where it posts, its words and its fields (``N_`` text, which
    the form page translates)."""

    title: str
    action: str
    fields: list[dict[str, str]]
    intro: tuple[str, ...] = ()

    def page(
        self, request: Request, services: ServicesDep, values: dict[str, str], errors: dict[str, str] | None
    ) -> Response:
        return form_page(
            services,
            request,
            title=self.title,
            action=self.action,
            intro=list(self.intro),
            fields=self.fields,
            values=values,
            errors=errors,
        )


PASSPORT = Step(
    N_("Enter your passport details"),
    "/identity/passport",
    PASSPORT_FIELDS,
    (N_("Enter your name and date of birth as they are on your passport."),),
)
LICENCE = Step(
    N_("Enter your driving licence details"),
    "/identity/driving-licence",
    LICENCE_FIELDS,
    (N_("Enter your name and date of birth as they are on your licence."),),
)
ADDRESS = Step(N_("Enter your home address"), "/identity/address", ADDRESS_FIELDS)


# Where the journey goes after each step.
STEP_PAGES = {
    Next.START: "/identity/prove",
    Next.ADDRESS: "/identity/address",
    Next.QUESTIONS: "/identity/questions",
    Next.COULD_NOT_CHECK: "/identity/could-not-check",
    Next.RESULT: "/identity/result",
}


def field_errors(error: FieldError) -> dict[str, str]:
    """A service's correctable problem, beside the field it belongs to, in the request's language."""
    return {error.field: upper_first(reason_words(error.message))}


# A GOV.UK date input's standard error messages, as whole sentences for each date the pages ask for.
DATE_ERRORS = {
    "birth_date": {
        "empty": N_("Enter the date of birth"),
        "day": N_("Date of birth must include a day"),
        "month": N_("Date of birth must include a month"),
        "year": N_("Date of birth must include a year"),
        "not_real": N_("Date of birth must be a real date"),
    },
    "issue_date": {
        "empty": N_("Enter the issue date"),
        "day": N_("Issue date must include a day"),
        "month": N_("Issue date must include a month"),
        "year": N_("Issue date must include a year"),
        "not_real": N_("Issue date must be a real date"),
    },
    "expiry_date": {
        "empty": N_("Enter the valid until date"),
        "day": N_("Valid until date must include a day"),
        "month": N_("Valid until date must include a month"),
        "year": N_("Valid until date must include a year"),
        "not_real": N_("Valid until date must be a real date"),
    },
}


def read_date(form: Form, name: str) -> tuple[date | None, str | None]:
    """A GOV.UK date input's three fields (``name`` is one of :data:`DATE_ERRORS`), with its standard
    error messages."""
    found, problem = parse_date([form.get(f"{name}-{part}", "").strip() for part in ("day", "month", "year")])
    message = DATE_ERRORS[name][problem] if problem else None
    return found, _(message) if message else None


def parse_date(parts: list[str]) -> tuple[date | None, str | None]:
    """A date from its day, month and year, or which of the problems in :data:`DATE_ERRORS` it has."""
    if not any(parts):
        return None, "empty"
    missing = [p for p, v in zip(("day", "month", "year"), parts, strict=True) if not v]
    if missing:
        return None, missing[0]
    try:
        day, month, year = (int(p) for p in parts)
        if year < 1000:
            raise ValueError
        return date(year, month, day), None
    except ValueError:
        return None, "not_real"


def read_person(form: Form, today: date) -> tuple[ClaimedPerson | None, dict[str, str]]:
    errors: dict[str, str] = {}
    given, family = form.get("given_names", "").strip(), form.get("family_name", "").strip()
    if not given:
        errors["given_names"] = _("Enter your first name")
    if not family:
        errors["family_name"] = _("Enter your last name")
    born, problem = read_date(form, "birth_date")
    if problem:
        errors["birth_date"] = problem
    elif born is not None and born >= today:
        errors["birth_date"] = _("Date of birth must be in the past")
    if errors or born is None:
        return None, errors
    return ClaimedPerson(given, family, born), {}


def read_address(form: Form, today: date) -> tuple[Address | None, dict[str, str]]:
    errors: dict[str, str] = {}
    words = {
        "building": _("Enter the building number or name"),
        "street": _("Enter the street"),
        "town": _("Enter the town or city"),
    }
    for name, message in words.items():
        if not form.get(name, "").strip():
            errors[name] = message
    postcode = normalise_postcode(form.get("postcode", ""))
    if postcode is None:
        errors["postcode"] = (
            _("Enter a real UK postcode, like SW1A 2AA") if form.get("postcode") else _("Enter your postcode")
        )
    year_text = form.get("lived_from", "").strip()
    year = int(year_text) if year_text.isdigit() else None
    if year is None or not 1900 <= year <= today.year:
        errors["lived_from"] = _("Enter the year you started living there, like 2015")
    if errors or postcode is None or year is None:
        return None, errors
    address = Address(
        form["building"].strip(), form["street"].strip(), form["town"].strip(), postcode, date(year, 1, 1)
    )
    return address, {}
