"""Download your data (everything held about you, as JSON) and delete your account (after a fresh
sign-in: every service is told, and only what the audit log must keep stays)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from broker.accounts.data import AccountData
from broker.deps import Db, Form, ServicesDep, vouching_service
from broker.web.i18n import _
from broker.webkit.access import signed_in
from broker.webkit.pages import NO_STORE, render
from broker.webkit.router import page_router

router = page_router()


@router.get("/account/data.json")
def download(request: Request, db: Db, services: ServicesDep) -> Response:
    """Everything the broker holds about the person (secrets and hashes excepted)."""
    _session, account = signed_in(request)
    data = AccountData(db, services.settings, services.clock).download(account)
    headers = {**NO_STORE, "Content-Disposition": 'attachment; filename="your-data.json"'}
    return JSONResponse(data, headers=headers)


@router.get("/account/delete")
def delete_page(request: Request, db: Db, services: ServicesDep) -> Response:
    signed_in(request)
    return render(services, request, "delete_account.html", {"title": _("Delete your account")})


@router.post("/account/delete")
def delete(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    _session, account = signed_in(request)
    if form.get("confirm") != "yes":
        return render(
            services,
            request,
            "delete_account.html",
            {"title": _("Delete your account")},
            {"confirm": _("Confirm that you want to delete your account")},
        )
    AccountData(db, services.settings, services.clock).delete(account.id, vouching_service(db, services))
    return render(
        services,
        request,
        "message.html",
        {
            "title": _("Your account has been deleted"),
            "paragraphs": [
                _(
                    "Services that receive notices from us have been told, and asked to delete what they "
                    "hold about you. Other services were not told automatically: to ask them to delete what "
                    "they hold, contact them directly. We keep only the audit record the law requires (what "
                    "happened and when, never your details)."
                )
            ],
        },
    )
