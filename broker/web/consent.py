"""The consent page: the person sees what a service will receive and agrees, or cancels."""

from __future__ import annotations

from datetime import date

from fastapi import Request
from fastapi.responses import Response

from broker.accounts.interactions import BROWSER_COOKIE, InteractionService
from broker.accounts.sessions import SessionService, session_cookie
from broker.audit.log import record
from broker.deps import Db, Form, Oidc, ServicesDep
from broker.errors import InteractionExpired
from broker.oidc.authorization import error_redirect
from broker.oidc.requests import Params
from broker.policy import claims as claims_mod
from broker.policy.mou import Terms
from broker.policy.service import agreement_for
from broker.store.models import Consent, Interaction
from broker.web.i18n import _
from broker.webkit.pages import render, see_other
from broker.webkit.router import page_router

router = page_router()


def _requested(interaction: Interaction) -> tuple[list[str], set[str]]:
    params = Params([(k, v) for k, values in interaction.params.items() for v in values])
    scopes = (params.get("scope") or "").split()
    try:
        names = claims_mod.parse_claims_parameter(params.get("claims")).names
    except claims_mod.ClaimsRequestInvalid:
        names = set()
    return scopes, claims_mod.shareable(claims_mod.scope_claims(scopes) | names)


def _load(request: Request, db: Db, services: ServicesDep, interaction_id: str) -> Interaction:
    now = services.clock()
    interaction = InteractionService(db).load(interaction_id, request.cookies.get(BROWSER_COOKIE), now)
    session = SessionService(db, services.settings).find(
        request.cookies.get(session_cookie(services.settings)), now
    )
    if session is None or interaction.client_id is None:  # no consent without a service asking
        raise InteractionExpired(_("You have been signed out. Go back to the service and start again."))
    interaction.account_id = session.account_id
    return interaction


def _terms(db: Db, client_id: str, today: date) -> Terms | None:
    found = agreement_for(db, client_id, today=today)
    return found.terms if found else None


@router.get("/consent/{interaction_id}")
def consent_page(interaction_id: str, request: Request, db: Db, services: ServicesDep, ctx: Oidc) -> Response:
    """The service, the purpose from its MOU, each attribute and how long it is kept; optional ones
    can be declined."""
    interaction = _load(request, db, services, interaction_id)
    client = ctx.repo.client(interaction.client_id or "")
    _scopes, claims = _requested(interaction)
    terms = _terms(db, interaction.client_id or "", services.clock().date())
    items = []
    for claim in sorted(claims):
        term = terms.attribute(claim) if terms else None
        items.append(
            {
                "claim": claim,
                "name": claims_mod.HUMAN_NAMES.get(claim, claim),
                "days": term.retention_days if term else None,
                "required": term.required if term else True,
            }
        )
    context = {
        "client": client,
        "terms": terms,
        "required": [i for i in items if i["required"]],
        "optional": [i for i in items if not i["required"]],
        "interaction": interaction,
    }
    return render(services, request, "consent.html", context)


@router.post("/consent/{interaction_id}")
def consent(
    interaction_id: str, request: Request, db: Db, services: ServicesDep, ctx: Oidc, form: Form
) -> Response:
    interaction = _load(request, db, services, interaction_id)
    now = services.clock()
    if form.get("decision") != "agree":
        interaction.completed_at = now
        db.commit()
        redirect = error_redirect(
            ctx,
            interaction.params["redirect_uri"][0],
            "access_denied",
            "the person did not agree to share",
            (interaction.params.get("state") or [None])[0],
        )
        return see_other(redirect.location)
    scopes, claims = _requested(interaction)
    assert interaction.account_id is not None and interaction.client_id is not None
    agreement = agreement_for(db, interaction.client_id, today=now.date())
    terms = agreement.terms if agreement else None
    optional = {c for c in claims if terms and (t := terms.attribute(c)) is not None and not t.required}
    chosen = set(form.datalist.get("share", []))
    declined = optional - chosen
    row = (
        db.query(Consent)
        .filter_by(account_id=interaction.account_id, client_id=interaction.client_id)
        .first()
    )
    if row is None:
        row = Consent(
            account_id=interaction.account_id,
            client_id=interaction.client_id,
            scopes=[],
            claims=[],
            granted_at=now,
        )
        db.add(row)
    version_id = agreement.version_id if agreement else None
    if row.withdrawn_at is not None or row.mou_version_id != version_id:
        row.scopes, row.claims, row.declined, row.withdrawn_at = [], [], [], None  # agreed afresh
    row.scopes = sorted(set(row.scopes) | set(scopes))
    row.claims = sorted((set(row.claims) | claims) - declined)
    row.declined = sorted((set(row.declined) - claims) | declined)
    row.mou_version_id, row.method, row.granted_at = version_id, "consent page", now
    record(
        db,
        "consent.given",
        now=now,
        actor=interaction.account_id,
        subject=interaction.account_id,
        client_id=interaction.client_id,
        claims=row.claims,
        declined=row.declined,
    )
    interaction.consent_given_at = now
    db.commit()
    return see_other(f"{services.settings.issuer}/authorize/resume/{interaction.id}")
