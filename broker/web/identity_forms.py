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
from vouching.documents import PassportDetails, passport_number
from vouching.levels import LEVEL_WORDS as ALL_LEVEL_WORDS
from vouching.levels import NO_IDENTITY
from vouching.person import Address, ClaimedPerson, normalise_postcode
from vouching.proofing import passport_in_date

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
# What a person reads off their passport's photo page, in the order it is printed there.
PASSPORT_FIELDS = [
    {
        "name": "passport_number",
        "label": N_("Passport number"),
        "hint": N_("This is the 9 digit number at the top right of the photo page, for example 123456789"),
        "inputmode": "numeric",
        "width": "10",
    },
    {
        "name": "family_name",
        "label": N_("Surname"),
        "autocomplete": "family-name",
        "hint": N_("As it is printed on your passport"),
    },
    {
        "name": "given_names",
        "label": N_("Given names"),
        "autocomplete": "given-name",
        "hint": N_("All of them, as they are printed on your passport"),
    },
    NAME_FIELDS[2],
    {
        "name": "expiry_date",
        "label": N_("Expiry date"),
        "type": "date",
        "hint": N_("For example, 27 3 2031"),
    },
]
LICENCE_FIELDS = [
    *NAME_FIELDS,
    {
        "name": "licence_number",
        "label": N_("Licence number"),
        "hint": N_("16 characters, in section 5 of the licence"),
        "width": "20",
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
    {"name": "postcode", "label": N_("Postcode"), "autocomplete": "postal-code", "width": "10"},
    {
        "name": "lived_from",
        "label": N_("Year you started living at this address"),
        "inputmode": "numeric",
        "width": "4",
    },
]


@dataclass(frozen=True)
class Step:
    """One page of the journey: its heading, where it posts, its words and its fields (``N_`` text, which
    the form page translates)."""

    title: str
    action: str
    fields: list[dict[str, str]]
    intro: tuple[str, ...] = ()
    back: str = "/identity/prove"
    # The check-your-answers page: what it asks, and what happens when the answers are confirmed.
    check_intro: str = N_("Check these are exactly as they are printed on your document.")
    next_words: str = ""

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
            back=self.back,
        )


PASSPORT = Step(
    N_("Enter your passport details"),
    "/identity/passport",
    PASSPORT_FIELDS,
    (N_("Copy these from the photo page of your UK passport."),),
    next_words=N_(
        "We will ask HM Passport Office to confirm these details. You can try again if something is wrong."
    ),
)
LICENCE = Step(
    N_("Enter your driving licence details"),
    "/identity/driving-licence",
    LICENCE_FIELDS,
    (N_("Enter your name and date of birth as they are on your licence."),),
    next_words=N_(
        "We will ask the DVLA to confirm these details. You can try again if something is wrong."
    ),
)
ADDRESS = Step(N_("Enter your home address"), "/identity/address", ADDRESS_FIELDS, back="")


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
    "passport_expiry": {
        "empty": N_("Enter the expiry date"),
        "day": N_("Expiry date must include a day"),
        "month": N_("Expiry date must include a month"),
        "year": N_("Expiry date must include a year"),
        "not_real": N_("Expiry date must be a real date"),
    },
    "expiry_date": {
        "empty": N_("Enter the valid until date"),
        "day": N_("Valid until date must include a day"),
        "month": N_("Valid until date must include a month"),
        "year": N_("Valid until date must include a year"),
        "not_real": N_("Valid until date must be a real date"),
    },
}


def read_date(form: Form, name: str, words: str | None = None) -> tuple[date | None, str | None]:
    """A GOV.UK date input's three fields, with the standard error messages of ``words`` (one of
    :data:`DATE_ERRORS`, ``name`` unless given)."""
    found, problem = parse_date([form.get(f"{name}-{part}", "").strip() for part in ("day", "month", "year")])
    message = DATE_ERRORS[words or name][problem] if problem else None
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


NAME_WORDS = {"given_names": N_("Enter your first name"), "family_name": N_("Enter your last name")}
PASSPORT_NAME_WORDS = {
    "given_names": N_("Enter your given names as they are on your passport"),
    "family_name": N_("Enter your surname as it is on your passport"),
}


def read_person(
    form: Form, today: date, words: dict[str, str] = NAME_WORDS
) -> tuple[ClaimedPerson | None, dict[str, str]]:
    errors: dict[str, str] = {}
    given, family = form.get("given_names", "").strip(), form.get("family_name", "").strip()
    for name, typed in (("given_names", given), ("family_name", family)):
        if not typed:
            message = words[name]
            errors[name] = _(message)
    born, problem = read_date(form, "birth_date")
    if problem:
        errors["birth_date"] = problem
    elif born is not None and born >= today:
        errors["birth_date"] = _("Date of birth must be in the past")
    if errors or born is None:
        return None, errors
    return ClaimedPerson(given, family, born), {}


def read_passport(form: Form, today: date) -> tuple[PassportDetails | None, dict[str, str]]:
    """The passport page's answers, every problem with them at once (each beside its field)."""
    person, errors = read_person(form, today, PASSPORT_NAME_WORDS)
    typed = form.get("passport_number", "")
    number = passport_number(typed)
    if number is None:
        errors["passport_number"] = (
            _("Passport number must be 9 digits, like 123456789")
            if typed.strip()
            else _("Enter your passport number")
        )
    expires, problem = read_date(form, "expiry_date", "passport_expiry")
    if problem:
        errors["expiry_date"] = problem
    elif expires is not None and not passport_in_date(expires, today):
        errors["expiry_date"] = _("Your passport has expired. Use another photo ID")
    if errors or person is None or number is None or expires is None:
        order = [field["name"] for field in PASSPORT_FIELDS]
        return None, dict(sorted(errors.items(), key=lambda item: order.index(item[0])))  # as on the page
    return PassportDetails(number, person.family_name, person.given_names, person.birth_date, expires), {}


def person_of(passport: PassportDetails) -> ClaimedPerson:
    """Who the passport's holder says they are: the names and birth date on it."""
    return ClaimedPerson(passport.given_names, passport.surname, passport.birth_date)


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
