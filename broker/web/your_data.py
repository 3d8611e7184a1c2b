"""Download your data (everything held about you, as JSON) and delete your account (after a fresh
sign-in: every service is told, and only what the audit log must keep stays)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from broker.accounts.sessions import SessionService
from broker.audit.log import record
from broker.deps import Db, Form, ServicesDep, vouching_service
from broker.oidc.backchannel import queue_logout_notices
from broker.store.models import (
    Account,
    AuditEvent,
    BrowserSession,
    Consent,
    Grant,
    IdentityRecord,
    Passkey,
    ReleaseRecord,
    Vouch,
)
from broker.web.i18n import _
from broker.webkit.access import signed_in
from broker.webkit.pages import NO_STORE, render
from broker.webkit.router import page_router

router = page_router()


def _rows(db: Db, model: Any, **where: str) -> list[Any]:
    return list(db.scalars(select(model).filter_by(**where)))


def _plain(row: Any, *fields: str) -> dict[str, Any]:
    out = {}
    for name in fields:
        value = getattr(row, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


# Details of a person's own events that are about someone else: a vouch held because a document
# proved a namesake names that person's account, for the reviewer, never for the person held.
ABOUT_OTHERS = frozenset({"proven_accounts"})


def _own(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if k not in ABOUT_OTHERS}


@router.get("/account/data.json")
def download(request: Request, db: Db, services: ServicesDep) -> Response:
    """Everything the broker holds about the person (secrets and hashes excepted)."""
    _session, account = signed_in(request)
    data = {
        "account": _plain(
            account,
            "email",
            "email_verified",
            "phone_number",
            "phone_number_verified",
            "mfa_method",
            "identity_level",
            "created_at",
        ),
        "passkeys": [
            _plain(p, "name", "created_at", "last_used_at") for p in _rows(db, Passkey, account_id=account.id)
        ],
        "sessions": [
            _plain(s, "created_at", "auth_time", "level", "amr", "ended_at")
            for s in _rows(db, BrowserSession, account_id=account.id)
        ],
        "identity_checks": [
            _plain(
                r,
                "version",
                "route",
                "started_at",
                "completed_at",
                "names",
                "birth_date",
                "addresses",
                "evidence",
                "level",
                "profile",
                "recheck_by",
                "revoked_at",
                "revoked_reason",
            )
            for r in _rows(db, IdentityRecord, account_id=account.id)
        ],
        "consents": [
            _plain(
                c, "client_id", "claims", "declined", "mou_version_id", "granted_at", "withdrawn_at", "method"
            )
            for c in _rows(db, Consent, account_id=account.id)
        ],
        "releases": [
            _plain(r, "client_id", "claims", "endpoint", "mou_version_id", "released_at")
            for r in _rows(db, ReleaseRecord, account_id=account.id)
        ],
        "vouches_given": [
            _plain(
                v,
                "applicant_id",
                "relationship",
                "known_years",
                "accepted_at",
                "effective_at",
                "withdrawn_at",
            )
            for v in _rows(db, Vouch, voucher_id=account.id)
        ],
        "vouches_received": [
            _plain(v, "invited_email", "invited_at", "accepted_at", "effective_at", "withdrawn_at")
            for v in _rows(db, Vouch, applicant_id=account.id)
        ],
        "activity": [
            {**_plain(e, "at", "action"), "details": _own(e.details)}
            for e in db.scalars(
                select(AuditEvent).where(AuditEvent.subject == account.id).order_by(AuditEvent.seq)
            )
        ],
    }
    headers = {**NO_STORE, "Content-Disposition": 'attachment; filename="your-data.json"'}
    return JSONResponse(data, headers=headers)


@router.get("/account/delete")
def delete_page(request: Request, db: Db, services: ServicesDep) -> Response:
    signed_in(request)
    return render(services, request, "delete_account.html", {"title": _("Delete your account")})


@router.post("/account/delete")
def delete(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    _session, account = signed_in(request)
    now = services.clock()
    if form.get("confirm") != "yes":
        return render(
            services,
            request,
            "delete_account.html",
            {"title": _("Delete your account")},
            {"confirm": _("Confirm that you want to delete your account")},
        )
    sessions = SessionService(db, services.settings)
    for live in _rows(db, BrowserSession, account_id=account.id):
        if live.ended_at is None:
            sessions.end(live.id, now)
        queue_logout_notices(db, live.id, now)  # every service that took part is told
    for grant in _rows(db, Grant, account_id=account.id):
        grant.revoked_at = grant.revoked_at or now
    # The vouches they gave no longer stand: the identities they supported are settled again now.
    vouches = vouching_service(db, services)
    for given in _rows(db, Vouch, voucher_id=account.id):
        vouches.withdraw(given, account.id, "the voucher deleted their account")
    record(db, "account.deleted", now=now, actor=account.id, subject=account.id)
    db.flush()
    db.delete(db.get(Account, account.id))
    db.commit()
    return render(
        services,
        request,
        "message.html",
        {
            "title": _("Your account has been deleted"),
            "paragraphs": [
                _(
                    "Every service you used with it has been told. We keep only the audit record the law "
                    "requires (what happened and when, never your details)."
                )
            ],
        },
    )
