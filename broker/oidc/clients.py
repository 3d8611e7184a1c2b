"""Registering relying services."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from broker.accounts.subject import default_sector
from broker.errors import BrokerError
from broker.oidc.adapters import hash_secret
from broker.outbound.addresses import uri_refusal
from broker.policy.claims import CLAIMS_SUPPORTED, COMPANIONS
from broker.policy.service import first_agreement
from broker.store.models import Client

AUTH_METHODS = ("client_secret_basic", "private_key_jwt")
DEFAULT_SCOPES = ["openid", "email", "phone", "offline_access"]


class ClientInvalid(BrokerError):
    code = "invalid_client_metadata"
    title = "The client registration is not valid"


@dataclass
class NewClient:
    name: str
    redirect_uris: list[str]
    auth_method: str = "client_secret_basic"
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    claims: list[str] | None = None
    post_logout_redirect_uris: list[str] | None = None
    backchannel_logout_uri: str | None = None
    security_event_uri: str | None = None
    sector_identifier: str | None = None
    id_token_alg: str = "ES256"
    subject_type: str = "pairwise"
    scopes: list[str] | None = None
    client_id: str | None = None


def check_sector(sector: str, redirect_uris: list[str]) -> str:
    """A pairwise sector (OIDC Core §8.1) the service may use: every redirect URI's host is the sector
    or a name under it. Services of one organisation can share a sector (and so see the same ``sub``);
    a service cannot name another's sector to link the people both serve, because codes for that
    sector could only ever be sent to the other's hosts."""
    sector = sector.strip().lower().rstrip(".")
    for uri in redirect_uris:
        host = (urlsplit(uri).hostname or "").lower()
        if not sector or not (host == sector or host.endswith("." + sector)):
            raise ClientInvalid(
                f"the sector identifier must be the host of every redirect URI or a domain above it: {host} is not"
                f" under {sector or 'an empty sector'}"
            )
    return sector


def check_uri(uri: str, what: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
        raise ClientInvalid(f"{what} must be an absolute http(s) URL without a fragment: {uri}")
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise ClientInvalid(f"{what} must use https (http only for localhost): {uri}")
    return uri


def check_outbound_uri(uri: str, what: str, allow_private: bool) -> str:
    """A URI the broker itself calls (back-channel logout, security events, JWKS): as :func:`check_uri`,
    and not at an address the outbound rule refuses. Names are checked again, resolved, when called."""
    reason = uri_refusal(uri, allow_private=allow_private)
    if reason:
        raise ClientInvalid(f"{what} must be a public address the broker can call, not {reason}: {uri}")
    return check_uri(uri, what)


def load_jwks_file(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ClientInvalid(f"cannot read a JWKS from {path}: {exc}") from None
    if "keys" not in document:
        document = {"keys": [document]}
    return document  # type: ignore[no-any-return]


def register_client(
    db: Session,
    new: NewClient,
    now: datetime,
    registered_by: str | None = None,
    *,
    allow_private_outbound: bool = False,
) -> tuple[Client, str | None]:
    if new.auth_method not in AUTH_METHODS:
        raise ClientInvalid(f"auth method must be one of {', '.join(AUTH_METHODS)}")
    if not new.redirect_uris:
        raise ClientInvalid("at least one redirect URI is needed")
    if new.auth_method == "private_key_jwt" and not (new.jwks or new.jwks_uri):
        raise ClientInvalid("private_key_jwt needs the client's public keys (--jwks-file)")
    if new.id_token_alg not in ("ES256", "RS256"):
        raise ClientInvalid("the ID token algorithm must be ES256 or RS256")
    claims = sorted(set(new.claims or []))
    unknown = [c for c in claims if c not in CLAIMS_SUPPORTED]
    if unknown:
        raise ClientInvalid(f"unknown claims: {', '.join(unknown)}")
    redirect_uris = [check_uri(u, "redirect URI") for u in new.redirect_uris]
    secret = secrets.token_urlsafe(32) if new.auth_method == "client_secret_basic" else None
    client = Client(
        client_id=new.client_id or secrets.token_urlsafe(18),
        name=new.name,
        client_secret_hash=hash_secret(secret) if secret else None,
        token_endpoint_auth_method=new.auth_method,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=[
            check_uri(u, "post-logout redirect URI") for u in new.post_logout_redirect_uris or []
        ],
        backchannel_logout_uri=check_outbound_uri(
            new.backchannel_logout_uri, "back-channel logout URI", allow_private_outbound
        )
        if new.backchannel_logout_uri
        else None,
        security_event_uri=check_outbound_uri(
            new.security_event_uri, "security event URI", allow_private_outbound
        )
        if new.security_event_uri
        else None,
        jwks=new.jwks,
        jwks_uri=check_outbound_uri(new.jwks_uri, "JWKS URI", allow_private_outbound)
        if new.jwks_uri
        else None,
        id_token_signed_response_alg=new.id_token_alg,
        subject_type=new.subject_type,
        sector_identifier=check_sector(new.sector_identifier or default_sector(redirect_uris), redirect_uris),
        scopes=new.scopes or DEFAULT_SCOPES,
        claims=sorted(set(claims) | {c for claim in claims for c in COMPANIONS.get(claim, ())}),
        created_at=now,
    )
    db.add(client)
    db.flush()
    first_agreement(db, client.client_id, claims, new.name, now, proposed_by=registered_by)
    return client, secret
