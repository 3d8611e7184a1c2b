"""Vouching pages: the applicant without photo ID asks people to vouch and follows progress; a voucher
opens their invitation, signs in, and vouches or declines; both can withdraw during cooling-off;
a reviewer decides vouches the graph checks held back. Each action is one operation of the vouching
service (``broker.identity.vouching``), which owns its transaction."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from broker.deps import Db, Form, ServicesDep, vouching_service
from broker.errors import PageError
from broker.identity.vouching import ACKNOWLEDGEMENT, ConflictOfInterest, NotInvited, VouchingError
from broker.store.models import Account, Vouch, VouchRequest
from broker.web.i18n import N_, _, long_date
from broker.web.identity_forms import ADDRESS_FIELDS, LEVEL_WORDS, NAME_FIELDS, read_address, read_person
from broker.web.journeys import read_email
from broker.web.signin import load_interaction
from broker.web.vouch_words import reason_words, status_words, vouch_status
from broker.webkit.access import signed_in, staff
from broker.webkit.pages import form_page, render, see_other
from broker.webkit.router import page_router
from vouching.levels import NO_IDENTITY
from vouching.rules import RELATIONSHIPS, Statement
from vouching.vouches import advice

router = page_router()

REVIEWER = "vouch_reviewer"
EMAIL_FIELDS = [
    {"name": "email1", "label": N_("Email address of the first person"), "type": "email"},
    {"name": "email2", "label": N_("Email address of the second person"), "type": "email"},
    {"name": "email3", "label": N_("Email address of a third person (optional)"), "type": "email"},
]


def _details_form(
    request: Request, services: ServicesDep, values: dict[str, str], errors: dict[str, str] | None
) -> Response:
    return form_page(
        services,
        request,
        title=_("Ask people to vouch for you"),
        action=request.url.path,
        intro=[
            _("People who know you, and whose own identity we have checked, can confirm who you are."),
            _("First, tell us your name, date of birth and where you live."),
        ],
        fields=[*NAME_FIELDS, *ADDRESS_FIELDS],
        values=values,
        errors=errors,
    )


@router.get("/identity/vouching/start")
@router.get("/identity/vouching/start/{interaction_id}")
def start_page(
    request: Request, db: Db, services: ServicesDep, interaction_id: str | None = None
) -> Response:
    signed_in(request)
    if interaction_id:
        load_interaction(request, db, services, interaction_id)
    return _details_form(request, services, {}, None)


@router.post("/identity/vouching/start")
@router.post("/identity/vouching/start/{interaction_id}")
def start(
    request: Request, db: Db, services: ServicesDep, form: Form, interaction_id: str | None = None
) -> Response:
    _session, account = signed_in(request)
    interaction = load_interaction(request, db, services, interaction_id) if interaction_id else None
    today = services.clock().date()
    person, errors = read_person(form, today)
    address, address_errors = read_address(form, today)
    errors.update(address_errors)
    if person is None or address is None:
        return _details_form(request, services, dict(form.data), errors)
    vouching_service(db, services).ask(account, person, address, interaction.id if interaction else None)
    return see_other("/identity/vouching/invite")


def _invite_form(
    request: Request, services: ServicesDep, values: dict[str, str], errors: dict[str, str] | None
) -> Response:
    return form_page(
        services,
        request,
        title=_("Who can vouch for you?"),
        action="/identity/vouching/invite",
        intro=[
            _(
                "Ask at least 2 people who have known you for 2 years or more. They must not be related to "
                "you, your partner, or live with you, and must have proved their own identity with photo ID."
            ),
            _("We will email each of them a link. It works for 14 days."),
        ],
        fields=EMAIL_FIELDS,
        values=values,
        errors=errors,
        button=_("Send the invitations"),
    )


@router.get("/identity/vouching/invite")
def invite_page(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    vouching_service(db, services).request_of(account.id)
    return _invite_form(request, services, {}, None)


@router.post("/identity/vouching/invite")
def invite(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    _session, account = signed_in(request)
    service = vouching_service(db, services)
    service.request_of(account.id)
    emails, errors = [], {}
    for field in ("email1", "email2", "email3"):
        raw = (form.get(field) or "").strip()
        if not raw:
            continue
        address, problem = read_email(raw)
        if problem:
            errors[field] = problem
        elif address:
            emails.append(address)
    if not errors:
        try:
            service.send_invitations(account, emails)
        except VouchingError as exc:
            errors[exc.field] = reason_words(exc.message)
    if errors:
        return _invite_form(request, services, dict(form.data), errors)
    return see_other("/identity/vouching")


@router.get("/identity/vouching")
def progress(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    now = services.clock()
    found = vouching_service(db, services).progress(account)
    rows = []
    for vouch in found.vouches:
        status = vouch_status(vouch, now)
        rows.append({"vouch": vouch, "status": status, "words": status_words(status, vouch)})
    done = sum(1 for r in rows if r["status"] in ("cooling_off", "effective"))
    held = found.held
    level_now = held.level if held else NO_IDENTITY
    context: dict[str, Any] = {
        "title": _("People vouching for you"),
        "rows": rows,
        "done": done,
        "needed": found.needed,
        "held": held if held and held.route == "vouching" else None,
        "level_words": LEVEL_WORDS.get(held.level) if held else None,
        "resume": found.request.interaction_id if found.request.identity_record_id else None,
        "advice": [_(words) for words in advice(level_now, found.effective, held.activity if held else 0)]
        if held or done >= 2
        else [],
    }
    return render(services, request, "vouching_progress.html", context)


@router.post("/identity/vouching/cancel")
def cancel(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    vouching_service(db, services).cancel_request(account)
    return see_other("/identity/prove")


@router.post("/identity/vouching/{vouch_id}/withdraw")
def applicant_withdraws(vouch_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    vouching_service(db, services).applicant_withdraws(account, vouch_id)
    return see_other("/identity/vouching")


# The voucher
class InvitedSomeoneElse(PageError):
    status = 403
    code = "forbidden"
    title = N_("This invitation was sent to someone else")


def _invitation(request: Request, db: Db, services: ServicesDep, token: str) -> tuple[Vouch, VouchRequest]:
    """The open invitation behind the link; only the account of the email address it was sent to may
    answer it."""
    _session, voucher = signed_in(request)
    try:
        return vouching_service(db, services).open_invitation(token, voucher)
    except NotInvited:
        raise InvitedSomeoneElse(
            _(
                "You are signed in with a different email address from the one this invitation was sent "
                "to. Sign out, then sign in with the account for that email address. If you use another "
                "email address, ask the person who asked you to vouch to send the invitation to it."
            )
        ) from None


def _vouch_form(
    request: Request,
    services: ServicesDep,
    found: VouchRequest,
    values: dict[str, str],
    errors: dict[str, str] | None,
) -> Response:
    address = found.address
    context = {
        "title": _("Vouch for %(name)s", name=f"{found.given_names} {found.family_name}"),
        "request_row": found,
        "address": f"{address['building']} {address['street']}, {address['town']}, {address['postcode']}",
        "relationships": list(RELATIONSHIPS.items()),
        "acknowledgement": ACKNOWLEDGEMENT,
        "values": values,
        "action": request.url.path,
    }
    return render(services, request, "vouch.html", context, errors)


@router.get("/vouch/{token}")
def vouch_page(token: str, request: Request, db: Db, services: ServicesDep) -> Response:
    _vouch, found = _invitation(request, db, services, token)
    return _vouch_form(request, services, found, {}, None)


@router.post("/vouch/{token}")
def vouch(token: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    invitation, found = _invitation(request, db, services, token)
    _session, voucher = signed_in(request)
    service = vouching_service(db, services)
    if form.get("decision") == "decline":
        service.say_no(invitation, voucher)
        return render(
            services,
            request,
            "message.html",
            {
                "title": _("You have said no"),
                "paragraphs": [_("We have not told them why. You do not need to do anything else.")],
            },
        )
    errors: dict[str, str] = {}
    relationship = form.get("relationship") or ""
    if relationship not in RELATIONSHIPS:
        errors["relationship"] = _("Select how you know them")
    years_text = (form.get("known_years") or "").strip()
    if not years_text.isdigit():
        errors["known_years"] = _("Enter how many years you have known them, as a number")
    lives = form.get("lives_with")
    if lives not in ("yes", "no"):
        errors["lives_with"] = _("Select whether you live at the same address")
    if form.get("confirm_details") != "yes":
        errors["confirm_details"] = _("Confirm that their name, date of birth and address are right")
    if form.get("acknowledge") != "yes":
        errors["acknowledge"] = _("Confirm that you understand what vouching means")
    if errors:
        return _vouch_form(request, services, found, dict(form.data), errors)
    refusals = service.give_vouch(
        invitation, voucher, Statement(relationship, int(years_text), lives == "yes")
    )
    refused = [r for r in refusals if not r.review]
    if refused:
        # Each reason is a whole clause in the catalogue; the list gives it its full stop.
        paragraphs = [
            _("You cannot vouch for this person, because:"),
            *[f"{reason_words(r.reason)}." for r in refused],
        ]
        return render(
            services,
            request,
            "message.html",
            {"title": _("You cannot vouch for them"), "paragraphs": paragraphs},
        )
    if refusals:
        paragraphs = [
            _("Thank you. Our team needs to check this vouch before it can count. We will email you both.")
        ]
        return render(
            services,
            request,
            "message.html",
            {"title": _("We need to check your vouch"), "paragraphs": paragraphs},
        )
    assert invitation.effective_at is not None
    paragraphs = [
        _(
            "Your vouch takes effect on %(date)s. Until then either of you can withdraw it.",
            date=long_date(invitation.effective_at),
        ),
        _("You can see and withdraw the vouches you have given on your account."),
    ]
    return render(
        services,
        request,
        "message.html",
        {
            "title": _("Thank you for vouching"),
            "paragraphs": paragraphs,
            "link": ("/account/vouches", _("See the vouches you have given")),
        },
    )


@router.get("/account/vouches")
def my_vouches(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    now = services.clock()
    rows = []
    for vouch, found in vouching_service(db, services).given(account.id):
        status = vouch_status(vouch, now)
        rows.append(
            {
                "vouch": vouch,
                "name": f"{found.given_names} {found.family_name}" if found else "",
                "status": status,
                "words": status_words(status, vouch),
            }
        )
    return render(
        services, request, "vouches_given.html", {"title": _("Vouches you have given"), "rows": rows}
    )


@router.post("/account/vouches/{vouch_id}/withdraw")
def voucher_withdraws(vouch_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    vouching_service(db, services).voucher_withdraws(account, vouch_id)
    return see_other("/account/vouches")


# The reviewer
def reviewer(request: Request) -> Account:
    """A vouching reviewer, signed in with a passkey like every administrator (``admin.access.staff``)."""
    return staff(request, REVIEWER)


def _review_page(
    request: Request, db: Db, services: ServicesDep, errors: dict[str, str] | None = None
) -> Response:
    rows = [{"vouch": v, "request_row": r} for v, r in vouching_service(db, services).to_review()]
    return render(
        services, request, "review_vouches.html", {"title": "Vouches to review", "rows": rows}, errors
    )


@router.get("/admin/vouches")
def review_list(request: Request, db: Db, services: ServicesDep) -> Response:
    reviewer(request)
    return _review_page(request, db, services)


@router.post("/admin/vouches/{vouch_id}")
def review(vouch_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    account = reviewer(request)
    service = vouching_service(db, services)
    vouch = service.waiting_review(vouch_id)
    decision, note = form.get("decision"), (form.get("note") or "").strip()
    if decision not in ("accept", "refuse") or not note:
        return _review_page(
            request, db, services, {f"note-{vouch.id}": "Choose accept or refuse and write a note saying why"}
        )
    try:
        service.decide(vouch.id, account, decision == "accept", note)
    except ConflictOfInterest as exc:
        return _review_page(request, db, services, {f"note-{vouch.id}": str(exc)})
    return see_other("/admin/vouches")
