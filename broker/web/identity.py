"""Prove your identity: choose a document, enter its details, your address, answer questions about
your own records, then the result in plain words. Each step saves to the attempt under way (a
versioned identity record), so nothing typed is lost and every check is kept.

Reached from an authorization request that asked for more identity than the person holds (the
interaction waits, and "Continue to the service" resumes it) or from the account pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select

from broker.accounts.throttle import DOCUMENT_LOOKUPS_PER_ACCOUNT, Locked, Throttle
from broker.deps import Db, Form, ServicesDep, vouching_service
from broker.errors import PageError
from broker.identity.registry import simulated_authorities
from broker.identity.service import DocumentInUse, IdentityService, claimed_person, scores_of
from broker.store.models import Account, IdentityRecord, Interaction, Vouch
from broker.web.i18n import N_, _, upper_first
from broker.web.signin import load_interaction
from broker.web.vouch_words import status_words, vouch_status
from broker.webkit.access import signed_in
from broker.webkit.pages import form_page, render, see_other
from broker.webkit.router import page_router
from vouching.authorities import Authorities, DocumentAnswer, DocumentQuery
from vouching.documents import DocumentInvalid, parse_td3
from vouching.person import Address, ClaimedPerson, normalise_postcode
from vouching.proofing import advice, licence_check, licence_problems, passport_check, passport_problems
from vouching.scoring import assess

router = page_router()

MAX_DOCUMENT_CHECKS = 3  # authority look-ups per attempt: enough for a typo or two, too few to trawl
LEVEL_WORDS = {"P1": N_("low"), "P2": N_("medium"), "P3": N_("high")}

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


class NoAttempt(PageError):
    status = 400
    code = "no_identity_check"
    title = N_("Start proving your identity again")


class ProofingUnavailable(PageError):
    status = 503
    code = "temporarily_unavailable"
    title = N_("Identity checks are not available")


def authorities(db: Db, services: ServicesDep) -> Authorities:
    """The simulated authorities never prove anyone in production: without real adapters, no checks."""
    if services.settings.env == "production" and services.authorities is simulated_authorities:
        raise ProofingUnavailable(_("This service cannot check identities yet. Try again later."))
    return services.authorities(db)


def _service(db: Db, services: ServicesDep) -> IdentityService:
    return IdentityService(
        db,
        services.clock,
        authorities(db, services),
        services.key_service.document_key(),
        reopen_namesakes=vouching_service(db, services).reopen_namesakes,
    )


def _attempt(request: Request, db: Db, services: ServicesDep) -> tuple[Account, IdentityRecord]:
    _session, account = signed_in(request)
    record = _service(db, services).attempt(account.id)
    if record is None:
        raise NoAttempt(_("Your answers were not saved. Go to Prove your identity and start again."))
    return account, record


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


def _start_page(
    request: Request, services: ServicesDep, action: str, errors: dict[str, str] | None = None
) -> Response:
    return form_page(
        services,
        request,
        title=_("Prove your identity"),
        action=action,
        intro=[
            _(
                "Services that need to know who you are ask us to check your identity once. It takes about "
                "10 minutes."
            ),
            _("You will need your photo ID, your address, and to answer questions about your own records."),
        ],
        choices=DOCUMENT_CHOICES,
        errors=errors,
    )


def _interaction(
    request: Request, db: Db, services: ServicesDep, interaction_id: str | None
) -> Interaction | None:
    return load_interaction(request, db, services, interaction_id) if interaction_id else None


@router.get("/identity/prove")
@router.get("/identity/prove/{interaction_id}")
def start_page(
    request: Request, db: Db, services: ServicesDep, interaction_id: str | None = None
) -> Response:
    signed_in(request)
    _interaction(request, db, services, interaction_id)
    return _start_page(request, services, request.url.path)


@router.post("/identity/prove")
@router.post("/identity/prove/{interaction_id}")
def start(
    request: Request, db: Db, services: ServicesDep, form: Form, interaction_id: str | None = None
) -> Response:
    _session, account = signed_in(request)
    interaction = _interaction(request, db, services, interaction_id)
    choice = form.get("document")
    pages = {"passport": "/identity/passport", "driving_licence": "/identity/driving-licence"}
    if choice == "none":
        return see_other("/identity/no-photo-id" + (f"?for={interaction.id}" if interaction else ""))
    if choice not in pages:
        return _start_page(
            request, services, request.url.path, {"document": _("Select which photo ID you have")}
        )
    _service(db, services).start(account, interaction.id if interaction else None)
    db.commit()
    return see_other(pages[choice])


@router.get("/identity/no-photo-id")
def no_photo_id(request: Request, db: Db, services: ServicesDep) -> Response:
    signed_in(request)
    waiting = request.query_params.get("for")
    return render(
        services,
        request,
        "identity_no_photo_id.html",
        {"title": _("If you do not have photo ID"), "waiting": waiting},
    )


def look_up(db: Db, services: ServicesDep, account: Account, query: DocumentQuery) -> DocumentAnswer:
    """Ask the document's issuing authority, counted per account across attempts
    (``DOCUMENT_LOOKUPS_PER_ACCOUNT``); past the limit the person is told when to try again."""
    throttle, now = Throttle(db), services.clock()
    until = throttle.check(DOCUMENT_LOOKUPS_PER_ACCOUNT, account.id, now)
    if until:
        raise Locked(until, now, "checking documents")
    throttle.fail(DOCUMENT_LOOKUPS_PER_ACCOUNT, account.id, now)  # counts look-ups, not failures
    db.commit()  # counted even if the authority does not answer
    return authorities(db, services).documents.check(query)


def _in_use(db: Db, services: ServicesDep, account: Account, kind: str, number: str) -> str | None:
    """The error to show when this document already proved an identity on another account (the
    refusal is kept in the audit log)."""
    try:
        _service(db, services).check_document_free(account, kind, number)
    except DocumentInUse as exc:
        db.commit()
        return upper_first(_(exc.args[0]))
    return None


def _document_check_count(record: IdentityRecord) -> int:
    return sum(1 for e in record.evidence if e["kind"] in ("uk_passport", "uk_driving_licence"))


def _after_document(db: Db, services: ServicesDep, account: Account, record: IdentityRecord) -> Response:
    """Where the journey goes once a document has been checked with its authority."""
    latest = record.evidence[-1]
    if latest["counts"] and latest["validity"] > 0:
        db.commit()
        return see_other("/identity/address")
    if latest["fraud_indicator"] or _document_check_count(record) >= MAX_DOCUMENT_CHECKS:
        return _finish(db, services, account, record)
    db.commit()
    return see_other("/identity/could-not-check")


@router.get("/identity/passport")
def passport_page(request: Request, db: Db, services: ServicesDep) -> Response:
    _attempt(request, db, services)
    return PASSPORT.page(request, services, {}, None)


MRZ_ERRORS = {
    "line1": ("mrz_line1", N_("Enter line 1 exactly as printed: 44 letters, numbers and < symbols")),
    "document_type": ("mrz_line1", N_("Line 1 must start with P, as on a passport")),
    "line2": ("mrz_line2", N_("Enter line 2 exactly as printed: 44 letters, numbers and < symbols")),
}
MRZ_CHECK_DIGITS = N_("Line 2 does not match its check digits: check each character")


@router.post("/identity/passport")
def passport(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    account, record = _attempt(request, db, services)
    today = services.clock().date()
    values = dict(form.data)
    person, errors = read_person(form, today)
    line1, line2 = form.get("mrz_line1", "").replace(" ", ""), form.get("mrz_line2", "").replace(" ", "")
    mrz = None
    try:
        mrz = parse_td3(line1, line2, today=today)
    except DocumentInvalid as exc:
        field, message = MRZ_ERRORS.get(exc.field, ("mrz_line2", MRZ_CHECK_DIGITS))
        errors.setdefault(field, _(message))
    if errors or person is None or mrz is None:
        return PASSPORT.page(request, services, values, errors)
    truncated = not line1.endswith("<")
    problems = passport_problems(mrz, person, today, truncated=truncated)
    if problems:
        return PASSPORT.page(request, services, values, {"mrz_line1": upper_first(_(problems[0]))})
    if in_use := _in_use(db, services, account, "uk_passport", mrz.document_number):
        return PASSPORT.page(request, services, values, {"mrz_line1": in_use})
    query = DocumentQuery(
        "uk_passport", mrz.document_number, mrz.surname, mrz.given_names, mrz.birth_date, mrz.expiry_date
    )
    answer = look_up(db, services, account, query)
    check = passport_check(mrz, person, answer, today, truncated=truncated)
    details = {
        "documentNumber": mrz.document_number,
        "expiryDate": mrz.expiry_date.isoformat(),
        "icaoIssuerCode": mrz.issuing_state,
    }
    _service(db, services).add_document(record, person, check, details)
    return _after_document(db, services, account, record)


@router.get("/identity/driving-licence")
def licence_page(request: Request, db: Db, services: ServicesDep) -> Response:
    _attempt(request, db, services)
    return LICENCE.page(request, services, {}, None)


@router.post("/identity/driving-licence")
def licence(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    account, record = _attempt(request, db, services)
    today = services.clock().date()
    values = dict(form.data)
    person, errors = read_person(form, today)
    number = form.get("licence_number", "").replace(" ", "").upper()
    if not number:
        errors["licence_number"] = _("Enter your licence number")
    issued, problem = read_date(form, "issue_date")
    if problem:
        errors["issue_date"] = problem
    expires, problem = read_date(form, "expiry_date")
    if problem:
        errors["expiry_date"] = problem
    if errors or person is None or issued is None or expires is None:
        return LICENCE.page(request, services, values, errors)
    problems = licence_problems(number, person, issued, expires, today)
    if problems:
        field = (
            "licence_number"
            if "number" in problems[0]
            else "expiry_date"
            if "expir" in problems[0]
            else "issue_date"
        )
        return LICENCE.page(request, services, values, {field: upper_first(_(problems[0]))})
    if in_use := _in_use(db, services, account, "uk_driving_licence", number):
        return LICENCE.page(request, services, values, {"licence_number": in_use})
    query = DocumentQuery(
        "uk_driving_licence", number, person.family_name, person.given_names, person.birth_date, expires
    )
    answer = look_up(db, services, account, query)
    check = licence_check(number, person, issued, expires, answer, today)
    details = {
        "personalNumber": number,
        "issueDate": issued.isoformat(),
        "expiryDate": expires.isoformat(),
        "issuedBy": "DVLA",
    }
    _service(db, services).add_document(record, person, check, details)
    return _after_document(db, services, account, record)


@router.get("/identity/could-not-check")
def could_not_check(request: Request, db: Db, services: ServicesDep) -> Response:
    _account, record = _attempt(request, db, services)
    left = MAX_DOCUMENT_CHECKS - _document_check_count(record)
    kind = record.evidence[-1]["kind"] if record.evidence else "uk_passport"
    again = "/identity/passport" if kind == "uk_passport" else "/identity/driving-licence"
    return render(
        services,
        request,
        "identity_could_not_check.html",
        {
            "title": _("We could not check your details"),
            "problems": [_(p) for p in record.evidence[-1]["problems"]] if record.evidence else [],
            "left": left,
            "again": again,
        },
    )


@router.get("/identity/address")
def address_page(request: Request, db: Db, services: ServicesDep) -> Response:
    _attempt(request, db, services)
    return ADDRESS.page(request, services, {}, None)


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


@router.post("/identity/address")
def address(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    account, record = _attempt(request, db, services)
    if claimed_person(record) is None:
        return see_other("/identity/prove")
    found, errors = read_address(form, services.clock().date())
    if found is None:
        return ADDRESS.page(request, services, dict(form.data), errors)
    service = _service(db, services)
    service.add_address(record, [found])
    if not service.questions(record):
        return _finish(db, services, account, record)
    db.commit()
    return see_other("/identity/questions")


def _questions_form(
    request: Request, services: ServicesDep, record: IdentityRecord, errors: dict[str, str] | None
) -> Response:
    groups = [
        {"name": f"answer-{q['id']}", "legend": q["text"], "options": [(o, o) for o in q["options"]]}
        for q in record.questions
    ]
    return form_page(
        services,
        request,
        title=_("Answer security questions"),
        action="/identity/questions",
        intro=[_("These questions are about your own records. Only you should know the answers.")],
        choice_groups=groups,
        errors=errors,
    )


@router.get("/identity/questions")
def questions_page(request: Request, db: Db, services: ServicesDep) -> Response:
    _account, record = _attempt(request, db, services)
    return _questions_form(request, services, record, None)


@router.post("/identity/questions")
def questions(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    account, record = _attempt(request, db, services)
    answers = {q["id"]: form.get(f"answer-{q['id']}", "") for q in record.questions}
    errors = {f"answer-{i}": _("Select an answer") for i, answer in answers.items() if not answer}
    if errors:
        return _questions_form(request, services, record, errors)
    _service(db, services).answer(record, answers)
    return _finish(db, services, account, record)


def _finish(db: Db, services: ServicesDep, account: Account, record: IdentityRecord) -> Response:
    _service(db, services).complete(record, account)
    if record.interaction_id:
        waiting = db.get(Interaction, record.interaction_id)
        if waiting is not None:
            waiting.identity_attempted_at = services.clock()
    db.commit()
    return see_other("/identity/result")


@router.get("/identity/result")
def result(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    history = _service(db, services).history(account.id)
    if not history:
        return see_other("/identity/prove")
    latest = history[0]
    assessment = assess(scores_of(latest))
    context: dict[str, Any] = {
        "title": _("You have proved your identity")
        if latest.level != "P0"
        else _("We could not prove your identity"),
        "record": latest,
        "level_words": LEVEL_WORDS.get(latest.level),
        "problems": [_(p) for e in latest.evidence for p in e["problems"]],
        "advice": [_(words) for words in advice(assessment.next_steps)],
        "person": claimed_person(latest),
        "resume": latest.interaction_id,
    }
    return render(services, request, "identity_result.html", context)


@router.get("/account/identity")
def your_identity(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    service = _service(db, services)
    held = service.current(account.id)
    now = services.clock()
    received = db.scalars(select(Vouch).filter_by(applicant_id=account.id).order_by(Vouch.invited_at.desc()))
    context = {
        "title": _("Your identity"),
        "current": held,
        "person": claimed_person(held) if held else None,
        "level_words": LEVEL_WORDS.get(held.level) if held else None,
        "history": service.history(account.id),
        "received": [
            {"email": vouch.invited_email, "words": status_words(vouch_status(vouch, now), vouch)}
            for vouch in received
        ],
    }
    return render(services, request, "account_identity.html", context)
