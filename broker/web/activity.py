"""Activity history (sign-ins, factor changes, releases, vouches: the audit events about you, in
words) with "report something you do not recognise", and changing your password after a fresh
sign-in."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from broker.audit.log import record
from broker.deps import Db, Form, ServicesDep
from broker.notify.outbox import Outbox
from broker.oidc.backchannel import end_everywhere
from broker.store.models import AuditEvent
from broker.web.account import signed_in, signed_in_recently
from broker.web.csrf import check_csrf
from broker.web.journeys import new_password_errors
from broker.web.pages import form_page, render, see_other
from broker.web.signin import client_address

router = APIRouter(tags=["pages"], include_in_schema=False, dependencies=[Depends(check_csrf)])

WORDS = {
    "sign_in.success": "You signed in",
    "password.reset": "Your password was reset",
    "password.changed": "You changed your password",
    "consent.given": "You agreed to share information with a service",
    "consent.withdrawn": "You withdrew an agreement with a service",
    "identity.check_started": "You started proving your identity",
    "identity.check_completed": "An identity check finished",
    "identity.level_dropped": "Your identity's level dropped",
    "identity.revoked": "Your proven identity was revoked",
    "vouching.requested": "You asked people to vouch for you",
    "vouch.accepted": "A vouch was given",
    "vouch.withdrawn": "A vouch was withdrawn",
    "factor_reset.requested": "Someone asked to reset your second factor",
    "activity.reported": "You reported activity you did not recognise",
}
PASSWORD_FIELDS = [
    {"name": "current", "label": "Current password", "type": "password", "autocomplete": "current-password"},
    {
        "name": "password",
        "label": "New password",
        "type": "password",
        "autocomplete": "new-password",
        "hint": "At least 8 characters. Three random words work well.",
    },
    {
        "name": "confirm",
        "label": "Confirm your new password",
        "type": "password",
        "autocomplete": "new-password",
    },
]


@router.get("/account/activity")
def activity(request: Request, db: Db, services: ServicesDep) -> Response:
    _, account = signed_in(request, db, services)
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.subject == account.id).order_by(AuditEvent.seq.desc()).limit(100)
    )
    rows = [
        {"at": e.at, "words": WORDS.get(e.action, e.action.replace("_", " ").replace(".", ": "))}
        for e in events
    ]
    return render(services, request, "activity.html", {"title": "Activity history", "rows": rows})


@router.post("/account/activity/report")
def report(request: Request, db: Db, services: ServicesDep) -> Response:
    """Something not recognised: every session ends (services told), refresh tokens stop working,
    and the report is recorded for the team to look at."""
    _, account = signed_in(request, db, services)
    now = services.clock()
    end_everywhere(db, services.settings, account.id, now, "activity reported")
    record(
        db,
        "activity.reported",
        now=now,
        actor=account.id,
        subject=account.id,
        client_address=client_address(request),
    )
    db.commit()
    paragraphs = [
        "Thank you for telling us. We have signed you out on every device and told the services you use.",
        "Sign in again and change your password. If you cannot sign in, reset your password.",
    ]
    return render(
        services,
        request,
        "message.html",
        {"title": "We have signed you out everywhere", "paragraphs": paragraphs},
    )


def _password_page(request: Request, services: ServicesDep, errors: dict[str, str] | None = None) -> Response:
    return form_page(
        services,
        request,
        title="Change your password",
        action="/account/password",
        fields=PASSWORD_FIELDS,
        errors=errors,
    )


@router.get("/account/password")
def password_page(request: Request, db: Db, services: ServicesDep) -> Response:
    signed_in_recently(request, db, services)
    return _password_page(request, services)


@router.post("/account/password")
def change_password(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    _, account = signed_in_recently(request, db, services)
    now = services.clock()
    if not services.passwords.verify(account.password_hash, form.get("current") or ""):
        return _password_page(request, services, {"current": "Enter your current password"})
    errors = new_password_errors(form.get("password") or "", form.get("confirm") or "", account.email)
    if errors:
        return _password_page(request, services, errors)
    account.password_hash = services.passwords.hash(form["password"])
    end_everywhere(db, services.settings, account.id, now, "password changed")
    Outbox(db).send_email(account.email, "password_changed", {}, now)
    record(
        db,
        "password.changed",
        now=now,
        actor=account.id,
        subject=account.id,
        client_address=client_address(request),
    )
    db.commit()
    return see_other("/account/sign-in?next=/account/security")
