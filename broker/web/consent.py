"""The consent page: the person sees what a service will receive and agrees, or cancels."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from broker.accounts.interactions import InteractionService, browser_cookie_value
from broker.accounts.sessions import SessionService, session_cookie
from broker.deps import Db, Form, Oidc, ServicesDep
from broker.errors import InteractionExpired
from broker.oidc.authorization import error_redirect
from broker.oidc.context import OidcContext
from broker.oidc.requests import Params
from broker.policy.claims import HUMAN_NAMES
from broker.policy.consent import ConsentService, asked_by, asks, optional_claims
from broker.policy.lawful_basis import basis_of
from broker.store.models import Interaction
from broker.web.i18n import _, current_language
from broker.webkit.pages import render, see_other
from broker.webkit.router import page_router

router = page_router()


def _load(request: Request, db: Db, services: ServicesDep, interaction_id: str) -> tuple[Interaction, str]:
    """The authorization request waiting on this browser, and the account signed in to it."""
    now = services.clock()
    browser = browser_cookie_value(request, services.settings)
    interaction = InteractionService(db).load(interaction_id, browser, now)
    session = SessionService(db, services.settings).find(
        request.cookies.get(session_cookie(services.settings)), now
    )
    if session is None or interaction.client_id is None:  # no consent without a service asking
        raise InteractionExpired(_("You have been signed out. Go back to the service and start again."))
    return interaction, session.account_id


DECISIONS = ("agree", "cancel")


def _page(
    request: Request,
    db: Db,
    services: ServicesDep,
    ctx: OidcContext,
    interaction: Interaction,
    errors: dict[str, str] | None = None,
) -> Response:
    """The service, the purpose and the lawful basis from its agreement, each attribute and how long
    it is kept; optional ones can be declined. The page asks for consent only where the agreement
    rests on consent (``lawful_basis.is_consent``); otherwise it asks the person to agree to share."""
    client_id = interaction.client_id or ""
    agreement = ConsentService(db, services.clock).agreement(client_id)
    terms = agreement.terms if agreement else None
    items = [
        {"claim": a.claim, "name": HUMAN_NAMES.get(a.claim, a.claim), "days": a.days, "required": a.required}
        for a in asks(asked_by(interaction).asked_about, terms)
    ]
    language = current_language()
    basis = basis_of(terms.lawful_basis) if terms else None
    context = {
        "client": ctx.repo.client(client_id),
        "terms": terms,
        "organisation": terms.said("organisation", language) if terms else None,
        "purpose": terms.said("purpose", language) if terms else None,
        "lawful_basis": terms.said("lawful_basis", language) if terms else None,
        "basis": basis,
        "consent": basis is not None and basis.consent,
        "required": [i for i in items if i["required"]],
        "optional": [i for i in items if not i["required"]],
        "interaction": interaction,
    }
    return render(services, request, "consent.html", context, errors)


def _form_errors(form: Params, optional: frozenset[str]) -> dict[str, str]:
    """The buttons send ``decision``; the boxes send only the optional attributes they list."""
    if form.get("decision") not in DECISIONS:
        return {"decision": _("Choose whether to agree and continue or to cancel")}
    if not set(form.datalist.get("share", [])) <= optional:
        return {"share-1": _("Choose only from the information listed")}
    return {}


@router.get("/consent/{interaction_id}")
def consent_page(interaction_id: str, request: Request, db: Db, services: ServicesDep, ctx: Oidc) -> Response:
    interaction, _account_id = _load(request, db, services, interaction_id)
    return _page(request, db, services, ctx, interaction)


@router.post("/consent/{interaction_id}")
def consent(
    interaction_id: str, request: Request, db: Db, services: ServicesDep, ctx: Oidc, form: Form
) -> Response:
    interaction, account_id = _load(request, db, services, interaction_id)
    consents = ConsentService(db, services.clock)
    agreement = consents.agreement(interaction.client_id or "")
    optional = optional_claims(asked_by(interaction).asked_about, agreement.terms if agreement else None)
    errors = _form_errors(form, optional)
    if errors:
        return _page(request, db, services, ctx, interaction, errors)
    if form.get("decision") == "cancel":
        consents.refuse(interaction, account_id)
        redirect = error_redirect(
            ctx,
            interaction.params["redirect_uri"][0],
            "access_denied",
            "the person did not agree to share",
            (interaction.params.get("state") or [None])[0],
        )
        return see_other(redirect.location)
    consents.give(interaction, account_id, form.datalist.get("share", []))
    return see_other(f"{services.settings.issuer}/authorize/resume/{interaction.id}")
