"""The consent page: the person sees what a service will receive and agrees, or cancels."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from broker.accounts.sessions import SessionService, session_cookie
from broker.deps import Db, Form, Oidc, ServicesDep
from broker.errors import InteractionExpired
from broker.oidc import claims as claims_mod
from broker.oidc.authorization import error_redirect
from broker.oidc.interactions import BROWSER_COOKIE, InteractionService
from broker.oidc.requests import Params
from broker.store.models import Consent, Interaction
from broker.web.csrf import check_csrf
from broker.web.pages import render, see_other

router = APIRouter(tags=["pages"], include_in_schema=False, dependencies=[Depends(check_csrf)])


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
        raise InteractionExpired("You have been signed out. Go back to the service and start again.")
    interaction.account_id = session.account_id
    return interaction


@router.get("/consent/{interaction_id}")
def consent_page(interaction_id: str, request: Request, db: Db, services: ServicesDep, ctx: Oidc) -> Response:
    interaction = _load(request, db, services, interaction_id)
    client = ctx.repo.client(interaction.client_id or "")
    _, claims = _requested(interaction)
    items = [claims_mod.HUMAN_NAMES.get(c, c) for c in sorted(claims)]
    return render(
        services, request, "consent.html", {"client": client, "items": items, "interaction": interaction}
    )


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
    assert interaction.account_id is not None
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
    if row.withdrawn_at is not None:
        row.scopes, row.claims, row.withdrawn_at = [], [], None
    row.scopes = sorted(set(row.scopes) | set(scopes))
    row.claims = sorted(set(row.claims) | claims)
    row.granted_at = now
    interaction.consent_given_at = now
    db.commit()
    return see_other(f"{services.settings.issuer}/authorize/resume/{interaction.id}")
