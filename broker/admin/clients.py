"""Relying services in the admin console (client managers): register one, and change its redirect and
logout addresses, keys, authentication method, ID token algorithm and sector identifier. Registration
uses the same rules as ``broker clients create`` (and gives the service an MOU to review)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select

from broker.audit.log import record
from broker.deps import Db, Form, ServicesDep
from broker.errors import PageNotFound
from broker.oidc.clients import (
    ClientInvalid,
    NewClient,
    check_outbound_uri,
    check_sector,
    check_uri,
    register_client,
)
from broker.store.models import Client, Grant
from broker.webkit.access import staff
from broker.webkit.pages import render, see_other
from broker.webkit.router import page_router

router = page_router("admin")

AUTH_METHODS = (
    ("client_secret_basic", "Client secret"),
    ("private_key_jwt", "Private key JWT (recommended)"),
)
ALGORITHMS = (("ES256", "ES256"), ("RS256", "RS256"))


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _form(
    request: Request,
    services: ServicesDep,
    title: str,
    action: str,
    values: dict[str, Any],
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


def _read(form: Form, allow_private_outbound: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields as typed, and what is wrong with them (every URI checked as registration does;
    those the broker calls itself must not lead to an address the outbound rule refuses)."""
    values: dict[str, Any] = {
        "name": (form.get("name") or "").strip(),
        "redirect_uris": _lines(form.get("redirect_uris")),
        "post_logout_redirect_uris": _lines(form.get("post_logout_redirect_uris")),
        "backchannel_logout_uri": (form.get("backchannel_logout_uri") or "").strip() or None,
        "security_event_uri": (form.get("security_event_uri") or "").strip() or None,
        "jwks_uri": (form.get("jwks_uri") or "").strip() or None,
        "jwks": (form.get("jwks") or "").strip() or None,
        "landing_page_url": (form.get("landing_page_url") or "").strip() or None,
        "auth_method": form.get("auth_method") or "",
        "id_token_alg": form.get("id_token_alg") or "",
        "sector_identifier": (form.get("sector_identifier") or "").strip() or None,
        "claims": [c.strip() for c in (form.get("claims") or "").split(",") if c.strip()],
    }
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "Enter the service's name"
    if not values["redirect_uris"]:
        errors["redirect_uris"] = "Enter at least one redirect URI"
    checks = [("redirect_uris", u, "Redirect URI", False) for u in values["redirect_uris"]]
    checks += [
        ("post_logout_redirect_uris", u, "Post-logout URI", False)
        for u in values["post_logout_redirect_uris"]
    ]
    checks += [
        (f, values[f], w, called)
        for f, w, called in (
            ("backchannel_logout_uri", "Back-channel logout URI", True),
            ("security_event_uri", "Security event URI", True),
            ("jwks_uri", "JWKS URL", True),
            ("landing_page_url", "Landing page", False),
        )
        if values[f]
    ]
    for field, uri, words, called in checks:
        try:
            check_outbound_uri(uri, words, allow_private_outbound) if called else check_uri(uri, words)
        except ClientInvalid as exc:
            errors.setdefault(field, exc.description)
    if values["auth_method"] not in dict(AUTH_METHODS):
        errors["auth_method"] = "Choose how the service authenticates"
    elif values["auth_method"] == "private_key_jwt" and not (values["jwks_uri"] or values["jwks"]):
        errors["jwks_uri"] = "Enter the service's JWKS URL, or paste its public keys, for private key JWT"
    if values["jwks"]:
        values["jwks"], problem = _public_jwks(values["jwks"])
        if problem:
            errors["jwks"] = problem
    if values["id_token_alg"] not in dict(ALGORITHMS):
        errors["id_token_alg"] = "Choose the ID token algorithm"
    return values, errors


def _public_jwks(text: str) -> tuple[Any, str | None]:
    """A pasted JWKS of public keys, or the text back with what is wrong with it."""
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) and "d" not in k for k in keys):
        return text, 'Paste a JSON Web Key Set of public keys only, like {"keys": [...]}'
    return document, None


def _as_text(values: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in values.items():
        if key == "claims":
            out[key] = ", ".join(value) if isinstance(value, list) else str(value or "")
        elif isinstance(value, list):
            out[key] = "\n".join(value)
        elif isinstance(value, dict):
            out[key] = json.dumps(value, indent=2)
        else:
            out[key] = str(value or "")
    return out


@router.get("/admin/services/new")
def new_page(request: Request, db: Db, services: ServicesDep) -> Response:
    staff(request, "client_manager")
    values = {"auth_method": "private_key_jwt", "id_token_alg": "ES256", "claims": "email"}
    return _form(request, services, "Register a relying service", "/admin/services/new", values, None, False)


@router.post("/admin/services/new")
def register(request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    account = staff(request, "client_manager")
    values, errors = _read(form, services.settings.outbound_allows_private)
    if not errors and values["sector_identifier"]:
        try:  # on its own field (register_client checks it again, with everything else)
            check_sector(values["sector_identifier"], values["redirect_uris"])
        except ClientInvalid as exc:
            errors["sector_identifier"] = exc.description
    if not errors:
        try:
            fields = {k: v for k, v in values.items() if k != "landing_page_url"}
            client, secret = register_client(
                db,
                NewClient(**fields),
                services.clock(),
                account.id,
                allow_private_outbound=services.settings.outbound_allows_private,
            )
            client.landing_page_url = values["landing_page_url"]
        except ClientInvalid as exc:
            errors["name"] = exc.description
    if errors:
        db.rollback()
        return _form(
            request,
            services,
            "Register a relying service",
            "/admin/services/new",
            _as_text(values),
            errors,
            False,
        )
    record(db, "client.registered", now=services.clock(), actor=account.id, subject=client.client_id)
    db.commit()
    paragraphs = [f"Client ID: {client.client_id}"]
    if secret:
        paragraphs.append(f"Client secret (shown once, give it to the service now): {secret}")
    paragraphs.append(
        "Its data sharing agreement was drafted from the claims you listed and submitted: nothing is"
        " shared with the service until an approver (not you) approves it."
    )
    return render(
        services,
        request,
        "message.html",
        {
            "title": f"{client.name} is registered",
            "paragraphs": paragraphs,
            "link": ("/admin/mous", "Review data sharing agreements"),
        },
    )


@router.get("/admin/services/{client_id}")
def edit_page(client_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
    staff(request, "client_manager")
    client = db.get(Client, client_id)
    if client is None:
        raise PageNotFound("There is no such service.")
    values = {
        "name": client.name,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "security_event_uri": client.security_event_uri,
        "jwks_uri": client.jwks_uri,
        "jwks": client.jwks,
        "landing_page_url": client.landing_page_url,
        "auth_method": client.token_endpoint_auth_method,
        "id_token_alg": client.id_token_signed_response_alg,
        "sector_identifier": client.sector_identifier,
        "claims": client.claims,
    }
    return _form(
        request,
        services,
        f"Change {client.name}",
        f"/admin/services/{client_id}",
        _as_text(values),
        None,
        True,
    )


@router.post("/admin/services/{client_id}")
def edit(client_id: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    account = staff(request, "client_manager")
    client = db.get(Client, client_id)
    if client is None:
        raise PageNotFound("There is no such service.")
    values, errors = _read(form, services.settings.outbound_allows_private)
    sector = values["sector_identifier"] or client.sector_identifier
    used = db.scalar(select(Grant.id).filter_by(client_id=client_id).limit(1)) is not None
    if sector != client.sector_identifier and used:
        errors["sector_identifier"] = "The sector identifier cannot change once people have used the service"
    elif not errors:
        try:
            sector = check_sector(sector, values["redirect_uris"])
        except ClientInvalid as exc:
            errors["sector_identifier"] = exc.description
    if errors:
        return _form(
            request,
            services,
            f"Change {client.name}",
            f"/admin/services/{client_id}",
            _as_text(values),
            errors,
            True,
        )
    client.name = values["name"]
    client.redirect_uris, client.post_logout_redirect_uris = (
        values["redirect_uris"],
        values["post_logout_redirect_uris"],
    )
    client.backchannel_logout_uri, client.security_event_uri = (
        values["backchannel_logout_uri"],
        values["security_event_uri"],
    )
    client.jwks_uri, client.token_endpoint_auth_method = values["jwks_uri"], values["auth_method"]
    client.jwks, client.landing_page_url = values["jwks"], values["landing_page_url"]
    client.id_token_signed_response_alg, client.sector_identifier = values["id_token_alg"], sector
    record(db, "client.updated", now=services.clock(), actor=account.id, subject=client_id)
    db.commit()
    return see_other("/admin/services")
