"""Relying services in the admin console (client managers): register one, and change its redirect and
logout addresses, keys, authentication method, ID token algorithm and sector identifier. The pages read
the form; ``broker.oidc.clients.RelyingServices`` applies the rules ``broker clients create`` uses too
(and gives a new service an agreement for someone else to approve)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from broker.deps import Db, Form, ServicesDep
from broker.oidc.clients import NewClient, RegistrationInvalid, RelyingServices, jwks_from_text
from broker.store.models import Client
from broker.webkit.access import staff
from broker.webkit.pages import render, see_other
from broker.webkit.router import page_router

router = page_router("admin")

AUTH_METHODS = (
    ("client_secret_basic", "Client secret"),
    ("private_key_jwt", "Private key JWT (recommended)"),
)
ALGORITHMS = (("ES256", "ES256"), ("RS256", "RS256"))


def relying_services(db: Db, services: ServicesDep) -> RelyingServices:
    return RelyingServices(
        db, services.clock, allow_private_outbound=services.settings.outbound_allows_private
    )


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _form(
    request: Request,
    services: ServicesDep,
    title: str,
    action: str,
    values: dict[str, str],
    errors: dict[str, str] | None,
    editing: bool,
) -> Response:
    context = {
        "title": title,
        "action": action,
        "values": values,
        "methods": AUTH_METHODS,
        "algorithms": ALGORITHMS,
        "editing": editing,
    }
    return render(services, request, "admin/client.html", context, errors)


def _read(form: Form) -> NewClient:
    """The service as typed (the rules are the service's: ``broker.oidc.clients.problems``)."""

    def text(name: str) -> str | None:
        return (form.get(name) or "").strip() or None

    jwks = text("jwks")
    return NewClient(
        name=text("name") or "",
        redirect_uris=_lines(form.get("redirect_uris")),
        post_logout_redirect_uris=_lines(form.get("post_logout_redirect_uris")),
        backchannel_logout_uri=text("backchannel_logout_uri"),
        security_event_uri=text("security_event_uri"),
        jwks_uri=text("jwks_uri"),
        jwks=jwks_from_text(jwks) if jwks else None,
        landing_page_url=text("landing_page_url"),
        auth_method=form.get("auth_method") or "",
        id_token_alg=form.get("id_token_alg") or "",
        sector_identifier=text("sector_identifier"),
        claims=[c.strip() for c in (form.get("claims") or "").split(",") if c.strip()],
    )


def _as_text(client: Client) -> dict[str, str]:
    return {
        "name": client.name,
        "redirect_uris": "\n".join(client.redirect_uris),
        "post_logout_redirect_uris": "\n".join(client.post_logout_redirect_uris or []),
        "backchannel_logout_uri": client.backchannel_logout_uri or "",
        "security_event_uri": client.security_event_uri or "",
        "jwks_uri": client.jwks_uri or "",
        "jwks": json.dumps(client.jwks, indent=2) if client.jwks else "",
        "landing_page_url": client.landing_page_url or "",
        "auth_method": client.token_endpoint_auth_method,
        "id_token_alg": client.id_token_signed_response_alg,
        "sector_identifier": client.sector_identifier or "",
        "claims": ", ".join(client.claims or []),
    }


@router.get("/admin/services/new")
def new_page(request: Request, db: Db, services: ServicesDep) -> Response:
    staff(request, "client_manager")
    values = {"auth_method": "private_key_jwt", "id_token_alg": "ES256", "claims": "email"}
    return _form(request, services, "Register a relying service", "/admin/services/new", values, None, False)


@router.post("/admin/services/new")
def register(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    account = staff(request, "client_manager")
    try:
        client, secret = relying_services(db, services).register(_read(form), account.id)
    except RegistrationInvalid as refused:
        title, action = "Register a relying service", "/admin/services/new"
        return _form(request, services, title, action, dict(form.data), refused.errors, False)
    paragraphs = [f"Client ID: {client.client_id}"]
    if secret:
        paragraphs.append(f"Client secret (shown once, give it to the service now): {secret}")
    paragraphs.append(
        "Its data sharing agreement was drafted from the claims you listed and submitted: nothing is"
        " shared with the service until an approver (not you) approves it."
    )
    context: dict[str, Any] = {
        "title": f"{client.name} is registered",
        "paragraphs": paragraphs,
        "link": ("/admin/mous", "Review data sharing agreements"),
    }
    return render(services, request, "message.html", context)


@router.get("/admin/services/{client_id}")
def edit_page(client_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    staff(request, "client_manager")
    client = relying_services(db, services).get(client_id)
    action = f"/admin/services/{client_id}"
    return _form(request, services, f"Change {client.name}", action, _as_text(client), None, True)


@router.post("/admin/services/{client_id}")
def edit(client_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    account = staff(request, "client_manager")
    service = relying_services(db, services)
    try:
        service.change(client_id, _read(form), account.id)
    except RegistrationInvalid as refused:
        title, action = f"Change {service.get(client_id).name}", f"/admin/services/{client_id}"
        return _form(request, services, title, action, dict(form.data), refused.errors, True)
    return see_other("/admin/services")
