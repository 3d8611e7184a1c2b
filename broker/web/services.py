"""Your services: each service you agreed to share with, what it received (from the release ledger),
your consent receipt, and withdrawing consent. Also the public summary of a service's agreement."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from broker.accounts.subject import subject
from broker.audit.log import record
from broker.deps import Db, ServicesDep
from broker.errors import PageNotFound
from broker.policy.claims import HUMAN_NAMES
from broker.policy.service import governing, terms_of
from broker.store.models import (
    BackchannelLogout,
    Client,
    Consent,
    Grant,
    Mou,
    MouVersion,
    ReleaseRecord,
    SessionClient,
)
from broker.web.i18n import _
from broker.webkit.access import signed_in
from broker.webkit.pages import NO_STORE, render, see_other
from broker.webkit.router import page_router

router = page_router()


@router.get("/account/services")
def your_services(request: Request, db: Db, services: ServicesDep) -> Response:
    _session, account = signed_in(request)
    rows = []
    consents = db.scalars(
        select(Consent).filter_by(account_id=account.id).order_by(Consent.granted_at.desc())
    )
    for consent in consents:
        client = db.get(Client, consent.client_id)
        releases = list(
            db.scalars(
                select(ReleaseRecord)
                .filter_by(account_id=account.id, client_id=consent.client_id)
                .order_by(ReleaseRecord.released_at.desc())
                .limit(10)
            )
        )
        rows.append({"consent": consent, "client": client, "releases": releases})
    notice = request.query_params.get("notice", "")
    context = {"title": _("Your services"), "rows": rows, "names": HUMAN_NAMES, "notice": notice}
    return render(services, request, "your_services.html", context)


@router.post("/account/services/{client_id}/withdraw")
def withdraw(client_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    """Consent withdrawn: the service's refresh tokens stop working and it gets a back-channel logout
    for every session it took part in."""
    _session, account = signed_in(request)
    consent = db.scalars(select(Consent).filter_by(account_id=account.id, client_id=client_id)).first()
    client = db.get(Client, client_id)
    if consent is None or client is None:
        raise PageNotFound(_("You have not shared anything with that service."))
    now = services.clock()
    consent.withdrawn_at = now
    for grant in db.scalars(
        select(Grant).filter_by(account_id=account.id, client_id=client_id, revoked_at=None)
    ):
        grant.revoked_at, grant.revoked_reason = now, "consent withdrawn"
    sessions = db.scalars(
        select(SessionClient.session_id).where(
            SessionClient.client_id == client_id, SessionClient.sub == subject(client, account)
        )
    ).all()
    if client.backchannel_logout_uri:
        for session_id in sessions:
            db.add(
                BackchannelLogout(
                    client_id=client_id,
                    session_id=session_id,
                    sub=subject(client, account),
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    record(db, "consent.withdrawn", now=now, actor=account.id, subject=account.id, client_id=client_id)
    db.commit()
    return see_other("/account/services?notice=withdrawn")


@router.get("/account/services/{client_id}/consent-receipt.json")
def consent_receipt(client_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    """The consent as a receipt (Kantara Consent Receipt 1.1 fields, as ISO/IEC TS 27560 builds on)."""
    _session, account = signed_in(request)
    consent = db.scalars(select(Consent).filter_by(account_id=account.id, client_id=client_id)).first()
    client = db.get(Client, client_id)
    if consent is None or client is None:
        raise PageNotFound(_("You have not shared anything with that service."))
    version = db.get(MouVersion, consent.mou_version_id) if consent.mou_version_id else None
    mou = db.get(Mou, version.mou_id) if version else None
    terms = terms_of(version) if version else None
    receipt: dict[str, Any] = {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "GB",
        "consentTimestamp": int(consent.granted_at.timestamp()),
        "collectionMethod": consent.method,
        "consentReceiptID": consent.id,
        "language": "en",
        "piiPrincipalId": subject(client, account),
        "piiControllers": [
            {
                "piiController": terms.organisation if terms else client.name,
                "contact": terms.contacts if terms else "",
            }
        ],
        "policyUrl": f"{services.settings.issuer}/services/{client_id}/agreement",
        "services": [
            {
                "service": client.name,
                "purposes": [
                    {
                        "purpose": terms.purpose if terms else "",
                        "purposeCategory": ["Service provision"],
                        "consentType": "EXPLICIT",
                        "piiCategory": consent.claims,
                        "primaryPurpose": True,
                        "termination": _retention(terms, consent.claims),
                        "thirdPartyDisclosure": bool(terms and terms.onward_sharing),
                    }
                ],
            }
        ],
        "sensitive": False,
        "agreement": {
            "reference": mou.reference if mou else None,
            "version": version.number if version else None,
        },
        "declined": consent.declined,
        "withdrawn": int(consent.withdrawn_at.timestamp()) if consent.withdrawn_at else None,
    }
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="consent-receipt-{client_id}.json"'}
    return JSONResponse(receipt, headers=headers)


def _retention(terms: Any, claims: list[str]) -> str:
    if terms is None:
        return ""
    days = [t.retention_days for t in terms.attributes if t.claim in claims]
    return f"kept for at most {max(days)} days" if days else ""


@router.get("/services/{client_id}/agreement")
def agreement_summary(client_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    """The public summary of the agreement a service shares data under (linked from the consent page)."""
    client = db.get(Client, client_id)
    row = governing(db, client_id, today=services.clock().date()) if client else None
    if client is None or row is None:
        raise PageNotFound(_("There is no agreement for that service."))
    mou = db.get(Mou, row.mou_id)
    context = {
        "title": _("How %(service)s uses your information", service=client.name),
        "client": client,
        "terms": terms_of(row),
        "row": row,
        "mou": mou,
        "names": HUMAN_NAMES,
    }
    return render(services, request, "agreement.html", context)
