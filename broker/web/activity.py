"""Activity history (sign-ins, factor changes, releases, vouches: the audit events about you, in
words) with "report something you do not recognise", and changing your password after a fresh
sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select

from broker.deps import Db, Form, HashingTurn, ServicesDep
from broker.policy.claims import HUMAN_NAMES
from broker.store.models import AuditEvent, Client, ReleaseRecord
from broker.web.change_steps import security_for
from broker.web.i18n import N_, _
from broker.web.journeys import new_password_errors
from broker.webkit.access import signed_in
from broker.webkit.pages import form_page, render, see_other
from broker.webkit.router import page_router

router = page_router()

WORDS = {
    "sign_in.success": N_("You signed in"),
    "password.reset": N_("Your password was reset"),
    "password.changed": N_("You changed your password"),
    "consent.given": N_("You agreed to share information with a service"),
    "consent.withdrawn": N_("You withdrew an agreement with a service"),
    "identity.check_started": N_("You started proving your identity"),
    "identity.check_completed": N_("An identity check finished"),
    "identity.level_dropped": N_("Your identity's level dropped"),
    "identity.revoked": N_("Your proven identity was revoked"),
    "vouching.requested": N_("You asked people to vouch for you"),
    "vouch.accepted": N_("A vouch was given"),
    "vouch.withdrawn": N_("A vouch was withdrawn"),
    "factor_reset.requested": N_("Someone asked to reset your way to get security codes"),
    "activity.reported": N_("You reported activity you did not recognise"),
    "email.changed": N_("You changed your email address"),
    "factor.changed": N_("You changed how you get security codes"),
    "factor.backup_set": N_("You set up a backup method"),
    "factor.backup_removed": N_("You removed your backup method"),
    "factor.backup_used": N_("You signed in with your backup method"),
    "account.created": N_("You created your account"),
    "sign_in.failure": N_("Someone tried to sign in with a wrong password"),
    "code.failed": N_("Someone entered a wrong security code"),
    "lockout": N_("Signing in was paused after too many wrong attempts"),
    "password.change_failed": N_("Someone entered a wrong password when changing your password"),
    "factor.set": N_("You set up a way to sign in"),
    "factor.removed": N_("You removed a way to sign in"),
    "factor_reset.cancelled": N_("A request to reset your way to get security codes was cancelled"),
    "factor_reset.completed": N_("Your way to get security codes was reset"),
    "sessions.ended_all": N_("You signed out of all devices"),
    "vouching.invited": N_("You asked someone to vouch for you"),
    "vouching.cancelled": N_("You cancelled your request to be vouched for"),
    "vouch.refused": N_("A vouch could not be accepted"),
    "vouch.flagged": N_("A vouch was held for our team to check"),
    "vouch.reviewed": N_("Our team checked a vouch"),
    "identity.evidence_checked": N_("A document was checked for your identity"),
}
PASSWORD_FIELDS = [
    {
        "name": "current",
        "label": N_("Current password"),
        "type": "password",
        "autocomplete": "current-password",
    },
    {
        "name": "password",
        "label": N_("New password"),
        "type": "password",
        "autocomplete": "new-password",
        "hint": N_("At least 8 characters. Three random words work well."),
    },
    {
        "name": "confirm",
        "label": N_("Confirm your new password"),
        "type": "password",
        "autocomplete": "new-password",
    },
]


@router.get("/account/activity")
def activity(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.subject == account.id).order_by(AuditEvent.seq.desc()).limit(100)
    )
    rows = [Row(e.at, event_words(e.action)) for e in events] + release_rows(db, account.id)
    rows.sort(key=lambda row: row.at, reverse=True)
    return render(services, request, "activity.html", {"title": _("Activity history"), "rows": rows})


@dataclass(frozen=True)
class Row:
    at: datetime
    words: str


def release_rows(db: Db, account_id: str, limit: int = 100) -> list[Row]:
    """What each service received and when, from the release ledger."""
    releases = db.scalars(
        select(ReleaseRecord)
        .where(ReleaseRecord.account_id == account_id)
        .order_by(ReleaseRecord.released_at.desc())
        .limit(limit)
    ).all()
    names = {
        c.client_id: c.name
        for c in db.scalars(select(Client).where(Client.client_id.in_({r.client_id for r in releases})))
    }
    rows = []
    for release in releases:
        attributes = ", ".join(
            _(HUMAN_NAMES.get(claim, claim)) for claim in release.claims if claim in HUMAN_NAMES
        )
        words = _(
            "%(service)s received %(attributes)s",
            service=names.get(release.client_id, release.client_id),
            attributes=attributes or _("your account's identifier"),
        )
        rows.append(Row(release.released_at, words))
    return rows


def event_words(action: str) -> str:
    """An audit event in words, in the request's language; an event with no words yet shows its name."""
    if action in WORDS:
        return _(WORDS[action])
    return action.replace("_", " ").replace(".", ": ")


@router.post("/account/activity/report")
def report(request: Request, db: Db, services: ServicesDep) -> Response:
    """Something not recognised: every session ends (services told), refresh tokens stop working,
    and the report is recorded for the team to look at."""
    security_for(request, db, services).sign_out_everywhere("activity.reported", "activity reported")
    paragraphs = [
        _("Thank you for telling us. We have signed you out on every device and told the services you use."),
        _("Sign in again and change your password. If you cannot sign in, reset your password."),
    ]
    return render(
        services,
        request,
        "message.html",
        {"title": _("We have signed you out everywhere"), "paragraphs": paragraphs},
    )


def _password_page(request: Request, services: ServicesDep, errors: dict[str, str] | None = None) -> Response:
    return form_page(
        services,
        request,
        title=_("Change your password"),
        action="/account/password",
        fields=PASSWORD_FIELDS,
        errors=errors,
        back="/account/security",
    )


@router.get("/account/password")
def password_page(request: Request, db: Db, services: ServicesDep) -> Response:
    signed_in(request)
    return _password_page(request, services)


@router.post("/account/password", dependencies=[HashingTurn])
def change_password(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    security = security_for(request, db, services)
    if not security.current_password_matches(form.get("current") or ""):
        return _password_page(request, services, {"current": _("Enter your current password")})
    new = form.get("password") or ""
    errors = new_password_errors(new, form.get("confirm") or "", security.account.email)
    if errors:
        return _password_page(request, services, errors)
    security.change_password(new)
    return see_other("/account/sign-in?next=/account/security")
