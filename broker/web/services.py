"""Your services: each service you agreed to share with, what it received (from the release ledger),
your consent receipt, and withdrawing consent; your sharing history (every release, naming the agreement
version it was made under) as a printable page and as JSON, for a subject access request. Also the
public summary of a service's agreement."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from broker.deps import Db, ServicesDep
from broker.errors import PageNotFound
from broker.policy.claims import HUMAN_NAMES
from broker.policy.consent import ConsentService
from broker.policy.mou import PUBLIC_FIELDS
from broker.policy.service import governing, terms_of
from broker.policy.sharing_history import Release, releases_to
from broker.store.models import Client
from broker.web.i18n import _, current_language
from broker.webkit.access import signed_in
from broker.webkit.pages import NO_STORE, render, see_other
from broker.webkit.router import page_router

router = page_router()


@router.get("/account/services")
def your_services(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    rows = ConsentService(db, services.clock).shared(account.id)
    notice = request.query_params.get("notice", "")
    context = {"title": _("Your services"), "rows": rows, "names": HUMAN_NAMES, "notice": notice}
    return render(services, request, "your_services.html", context)


@router.post("/account/services/{client_id}/withdraw")
def withdraw(client_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    """Consent withdrawn: the service's refresh tokens stop working and it gets a back-channel logout
    for every session it took part in."""
    _session, account = signed_in(request)
    ConsentService(db, services.clock).withdraw(account, client_id)
    return see_other("/account/services?notice=withdrawn")


@router.get("/account/services/{client_id}/consent-receipt.json")
def consent_receipt(client_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    """The consent as a receipt (Kantara Consent Receipt 1.1 fields, as ISO/IEC TS 27560 builds on)."""
    _session, account = signed_in(request)
    receipt = ConsentService(db, services.clock).receipt(account, client_id, services.settings.issuer)
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="consent-receipt-{client_id}.json"'}
    return JSONResponse(receipt, headers=headers)


@router.get("/account/sharing-history")
def sharing_history(request: Request, db: Db, services: ServicesDep) -> Response:
    """Every release of information about you, to print (the page has print styles)."""
    _session, account = signed_in(request)
    context = {
        "title": _("Your sharing history"),
        "releases": releases_to(db, account.id),
        "names": HUMAN_NAMES,
        "email": account.email,
        "printed_at": services.clock(),
    }
    return render(services, request, "sharing_history.html", context)


@router.get("/account/sharing-history.json")
def sharing_history_json(request: Request, db: Db, services: ServicesDep) -> Response:
    """The same history as a file: what a subject access request is answered with."""
    _session, account = signed_in(request)
    body = {
        "account": {"email": account.email},
        "generated_at": services.clock().isoformat(),
        "releases": [release_json(r) for r in releases_to(db, account.id)],
    }
    headers = {**NO_STORE, "Content-Disposition": 'attachment; filename="your-sharing-history.json"'}
    return JSONResponse(body, headers=headers)


def release_json(release: Release) -> dict[str, object]:
    return {
        "released_at": release.released_at.isoformat(),
        "service": release.service,
        "client_id": release.client_id,
        "agreement": {"reference": release.reference, "version": release.version},
        "endpoint": release.endpoint,
        "claims": list(release.claims),
        "information": [HUMAN_NAMES.get(c, c) for c in release.claims],
    }


@router.get("/services/{client_id}/agreement")
def agreement_summary(client_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    """The public summary of the agreement a service shares data under (linked from the consent page)."""
    client = db.get(Client, client_id)
    row = governing(db, client_id, today=services.clock().date()) if client else None
    if client is None or row is None:
        raise PageNotFound(_("There is no agreement for that service."))
    terms = terms_of(row)
    context = {
        "title": _("How %(service)s uses your information", service=client.name),
        "client": client,
        "terms": terms,
        "words": {name: terms.said(name, current_language()) for name in PUBLIC_FIELDS},
        "row": row,
        "names": HUMAN_NAMES,
    }
    return render(services, request, "agreement.html", context)
