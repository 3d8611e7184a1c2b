"""Prove your identity: choose a document, enter its details, your address, answer questions about
your own records, then the result in plain words. Each step saves to the attempt under way (a
versioned identity record), so nothing typed is lost and every check is kept.

Reached from an authorization request that asked for more identity than the person holds (the
interaction waits, and "Continue to the service" resumes it) or from the account pages.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from broker.deps import Db, Form, ServicesDep, identity_check, vouching_service
from broker.identity.documents import Next
from broker.identity.errors import FieldError
from broker.identity.service import claimed_person, scores_of
from broker.store.models import IdentityRecord
from broker.web.i18n import N_, _, long_date
from broker.web.identity_forms import (
    ADDRESS,
    DOCUMENT_CHOICES,
    LEVEL_WORDS,
    LICENCE,
    PASSPORT,
    STEP_PAGES,
    Step,
    field_errors,
    person_of,
    read_address,
    read_date,
    read_passport,
    read_person,
)
from broker.web.signin import load_interaction
from broker.web.vouch_words import status_words, vouch_status
from broker.webkit.access import signed_in
from broker.webkit.pages import form_page, render, see_other
from broker.webkit.router import page_router
from vouching.levels import NO_IDENTITY
from vouching.proofing import advice
from vouching.scoring import assess

router = page_router()

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


def _interaction(request: Request, db: Db, services: ServicesDep, interaction_id: str | None) -> str | None:
    """The authorization request waiting for this check, if any (checked to be this browser's)."""
    return load_interaction(request, db, services, interaction_id).id if interaction_id else None


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
    waiting = _interaction(request, db, services, interaction_id)
    choice = form.get("document")
    pages = {"passport": "/identity/passport", "driving_licence": "/identity/driving-licence"}
    if choice == "none":
        return see_other("/identity/no-photo-id" + (f"?for={waiting}" if waiting else ""))
    if choice not in pages:
        return _start_page(
            request, services, request.url.path, {"document": _("Select which photo ID you have")}
        )
    identity_check(db, services).start_attempt(account, waiting)
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


def _attempt(request: Request, db: Db, services: ServicesDep) -> IdentityRecord:
    """The attempt under way (the service's ``NoAttempt`` page when there is none)."""
    _session, account = signed_in(request)
    return identity_check(db, services).attempt_of(account.id)


@router.get("/identity/passport")
def passport_page(request: Request, db: Db, services: ServicesDep) -> Response:
    _attempt(request, db, services)
    return PASSPORT.page(request, services, {}, None)


def _answers(form: Form, step: Step) -> dict[str, str]:
    """What was typed into ``step``'s fields (each part of a date), to show again or carry forward."""
    names = [
        f"{f['name']}-{part}" if f.get("type") == "date" else f["name"]
        for f in step.fields
        for part in (("day", "month", "year") if f.get("type") == "date" else ("",))
    ]
    return {name: form.get(name, "") for name in names}


def _check_answers(
    request: Request, services: ServicesDep, step: Step, form: Form, rows: list[dict[str, str]]
) -> Response:
    """The answers to check before the issuing office is asked (GOV.UK's check answers pattern)."""
    return render(
        services,
        request,
        "identity_check_answers.html",
        {
            "title": _("Check your answers"),
            "action": step.action,
            "values": _answers(form, step),
            "rows": rows,
            "intro": step.check_intro,
            "next_words": step.next_words,
        },
    )


def _row(name: str, label: str, value: str) -> dict[str, str]:
    return {"name": name, "label": label, "value": value}


@router.post("/identity/passport")
def passport(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    """The passport's details; then the answers to check; then, confirmed, the passport office asked.
    ``change`` (a field's name) goes back to the details with what was typed."""
    _session, account = signed_in(request)
    check = identity_check(db, services)
    check.attempt_of(account.id)
    values = _answers(form, PASSPORT)
    if form.get("change"):
        return PASSPORT.page(request, services, values, None)
    details, errors = read_passport(form, services.clock().date())
    if details is None:
        return PASSPORT.page(request, services, values, errors)
    if form.get("confirmed") != "yes":
        rows = [
            _row("passport_number", N_("Passport number"), details.document_number),
            _row("family_name", N_("Surname"), details.surname),
            _row("given_names", N_("Given names"), details.given_names),
            _row("birth_date", N_("Date of birth"), long_date(details.birth_date)),
            _row("expiry_date", N_("Expiry date"), long_date(details.expiry_date)),
        ]
        return _check_answers(request, services, PASSPORT, form, rows)
    try:
        step = check.check_passport(account, person_of(details), details)
    except FieldError as exc:
        return PASSPORT.page(request, services, values, field_errors(exc))
    return see_other(STEP_PAGES[step])


@router.get("/identity/driving-licence")
def licence_page(request: Request, db: Db, services: ServicesDep) -> Response:
    _attempt(request, db, services)
    return LICENCE.page(request, services, {}, None)


@router.post("/identity/driving-licence")
def licence(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    _session, account = signed_in(request)
    check = identity_check(db, services)
    check.attempt_of(account.id)
    today = services.clock().date()
    values = _answers(form, LICENCE)
    if form.get("change"):
        return LICENCE.page(request, services, values, None)
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
    if form.get("confirmed") != "yes":
        rows = [
            _row("given_names", N_("First and middle names"), person.given_names),
            _row("family_name", N_("Last name"), person.family_name),
            _row("birth_date", N_("Date of birth"), long_date(person.birth_date)),
            _row("licence_number", N_("Licence number"), number),
            _row("issue_date", N_("Issue date"), long_date(issued)),
            _row("expiry_date", N_("Valid until"), long_date(expires)),
        ]
        return _check_answers(request, services, LICENCE, form, rows)
    try:
        step = check.check_licence(account, person, number, issued, expires)
    except FieldError as exc:
        return LICENCE.page(request, services, values, field_errors(exc))
    return see_other(STEP_PAGES[step])


@router.get("/identity/could-not-check")
def could_not_check(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    check = identity_check(db, services)
    record = check.attempt_of(account.id)
    kind = record.evidence[-1]["kind"] if record.evidence else "uk_passport"
    again = "/identity/passport" if kind == "uk_passport" else "/identity/driving-licence"
    return render(
        services,
        request,
        "identity_could_not_check.html",
        {
            "title": _("We could not check your details"),
            "problems": [_(p) for p in record.evidence[-1]["problems"]] if record.evidence else [],
            "left": check.checks_left(record),
            "again": again,
        },
    )


def _address_page(
    request: Request, services: ServicesDep, record: IdentityRecord, values: dict[str, str], errors: Any
) -> Response:
    """The address page goes back to the document it follows."""
    kind = record.evidence[-1]["kind"] if record.evidence else "uk_passport"
    back = PASSPORT.action if kind == "uk_passport" else LICENCE.action
    return replace(ADDRESS, back=back).page(request, services, values, errors)


@router.get("/identity/address")
def address_page(request: Request, db: Db, services: ServicesDep) -> Response:
    return _address_page(request, services, _attempt(request, db, services), {}, None)


@router.post("/identity/address")
def address(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    _session, account = signed_in(request)
    check = identity_check(db, services)
    record = check.attempt_of(account.id)
    if claimed_person(record) is None:
        return see_other(STEP_PAGES[Next.START])
    found, errors = read_address(form, services.clock().date())
    if found is None:
        return _address_page(request, services, record, dict(form.data), errors)
    return see_other(STEP_PAGES[check.give_address(account, found)])


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
        back=STEP_PAGES[Next.ADDRESS],
    )


@router.get("/identity/questions")
def questions_page(request: Request, db: Db, services: ServicesDep) -> Response:
    return _questions_form(request, services, _attempt(request, db, services), None)


@router.post("/identity/questions")
def questions(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    _session, account = signed_in(request)
    check = identity_check(db, services)
    record = check.attempt_of(account.id)
    answers = {q["id"]: form.get(f"answer-{q['id']}", "") for q in record.questions}
    errors = {f"answer-{i}": _("Select an answer") for i, answer in answers.items() if not answer}
    if errors:
        return _questions_form(request, services, record, errors)
    return see_other(STEP_PAGES[check.answer_questions(account, answers)])


@router.get("/identity/result")
def result(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    history = identity_check(db, services).history(account.id)
    if not history:
        return see_other(STEP_PAGES[Next.START])
    latest = history[0]
    assessment = assess(scores_of(latest))
    context: dict[str, Any] = {
        "title": _("You have proved your identity")
        if latest.level != NO_IDENTITY
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
    check = identity_check(db, services)
    held = check.current(account.id)
    now = services.clock()
    received = vouching_service(db, services).received(account.id)
    context = {
        "title": _("Your identity"),
        "current": held,
        "person": claimed_person(held) if held else None,
        "level_words": LEVEL_WORDS.get(held.level) if held else None,
        "history": check.history(account.id),
        "received": [
            {"email": vouch.invited_email, "words": status_words(vouch_status(vouch, now), vouch)}
            for vouch in received
        ],
    }
    return render(services, request, "account_identity.html", context)
