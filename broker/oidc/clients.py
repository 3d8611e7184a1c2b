"""Relying services: their registration rules, and the service the console and ``broker clients create``
both register and change them through (so the two cannot drift apart).

Every rule about a service's metadata is in :func:`problems`, field by field; :func:`register_client`
stores a service under them (and gives it its first data sharing agreement) without committing, and
:class:`RelyingServices` runs each registration or change as one unit of work with its audit event."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.accounts.subject import default_sector
from broker.audit.log import record
from broker.errors import BrokerError, PageNotFound
from broker.oidc.adapters import hash_secret
from broker.outbound.addresses import uri_refusal
from broker.policy.claims import CLAIMS_SUPPORTED, COMPANIONS
from broker.policy.service import first_agreement
from broker.store.models import Client, Grant, Mou
from broker.store.unit import unit_of_work

AUTH_METHODS = ("client_secret_basic", "private_key_jwt")
ID_TOKEN_ALGORITHMS = ("ES256", "RS256")
DEFAULT_SCOPES = ["openid", "email", "phone", "offline_access"]


class ClientInvalid(BrokerError):
    code = "invalid_client_metadata"
    title = "The client registration is not valid"


class RegistrationInvalid(ClientInvalid):
    """What is wrong with a service's metadata, field by field (``errors``); nothing was stored."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


@dataclass
class NewClient:
    name: str
    redirect_uris: list[str]
    auth_method: str = "client_secret_basic"
    jwks: dict[str, Any] | str | None = None  # pasted text that is not a JWKS is refused as such
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
    landing_page_url: str | None = None


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


def jwks_from_text(text: str) -> dict[str, Any] | str:
    """A pasted JWKS as a document, or the text back when it is not JSON (:func:`problems` says so)."""
    try:
        document = json.loads(text)
    except ValueError:
        return text
    return document if isinstance(document, dict) else text


def load_jwks_file(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ClientInvalid(f"cannot read a JWKS from {path}: {exc}") from None
    if "keys" not in document:
        document = {"keys": [document]}
    return document  # type: ignore[no-any-return]


def problems(new: NewClient, allow_private_outbound: bool) -> dict[str, str]:
    """Everything wrong with ``new``, as field → what to fix (empty when it may be stored)."""
    errors: dict[str, str] = {}
    if not new.name.strip():
        errors["name"] = "Enter the service's name"
    if not new.redirect_uris:
        errors["redirect_uris"] = "Enter at least one redirect URI"
    uris = [("redirect_uris", u, "Redirect URI", False) for u in new.redirect_uris]
    uris += [
        ("post_logout_redirect_uris", u, "Post-logout URI", False)
        for u in new.post_logout_redirect_uris or []
    ]
    uris += [
        (name, uri, words, called)
        for name, uri, words, called in (
            ("backchannel_logout_uri", new.backchannel_logout_uri, "Back-channel logout URI", True),
            ("security_event_uri", new.security_event_uri, "Security event URI", True),
            ("jwks_uri", new.jwks_uri, "JWKS URL", True),
            ("landing_page_url", new.landing_page_url, "Landing page", False),
        )
        if uri
    ]
    for name, uri, words, called in uris:
        try:
            check_outbound_uri(uri, words, allow_private_outbound) if called else check_uri(uri, words)
        except ClientInvalid as exc:
            errors.setdefault(name, exc.description)
    if new.auth_method not in AUTH_METHODS:
        errors["auth_method"] = f"Choose how the service authenticates: {' or '.join(AUTH_METHODS)}"
    elif new.auth_method == "private_key_jwt" and not (new.jwks or new.jwks_uri):
        errors.setdefault(
            "jwks_uri",
            "Private key JWT needs the service's public keys: enter its JWKS URL (jwks_uri) or its jwks",
        )
    if new.jwks is not None and not _public_keys(new.jwks):
        errors["jwks"] = 'The JWKS must be a JSON Web Key Set of public keys only, like {"keys": [...]}'
    if new.id_token_alg not in ID_TOKEN_ALGORITHMS:
        errors["id_token_alg"] = f"Choose the ID token algorithm: {' or '.join(ID_TOKEN_ALGORITHMS)}"
    unknown = sorted({c for c in new.claims or [] if c not in CLAIMS_SUPPORTED})
    if unknown:
        errors["claims"] = f"Unknown claims: {', '.join(unknown)}"
    if "redirect_uris" not in errors:  # the sector is judged against redirect URIs that stand
        try:
            check_sector(new.sector_identifier or default_sector(new.redirect_uris), new.redirect_uris)
        except ClientInvalid as exc:
            errors["sector_identifier"] = exc.description
    return errors


def _jwks(new: NewClient) -> dict[str, Any] | None:
    return new.jwks if isinstance(new.jwks, dict) else None  # anything else :func:`problems` refused


def _public_keys(jwks: object) -> bool:
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    return isinstance(keys, list) and bool(keys) and all(isinstance(k, dict) and "d" not in k for k in keys)


def register_client(
    db: Session,
    new: NewClient,
    now: datetime,
    registered_by: str | None = None,
    *,
    allow_private_outbound: bool = False,
    operator_approves: bool = False,
) -> tuple[Client, str | None]:
    """Store a service (flushed, not committed) with its first agreement (``first_agreement``):
    submitted for a second person to approve when staff register it; from the command line
    (``registered_by`` None) approved by the operator where ``operator_approves``, else a draft."""
    errors = problems(new, allow_private_outbound)
    if errors:
        raise RegistrationInvalid(errors)
    claims = sorted(set(new.claims or []))
    secret = secrets.token_urlsafe(32) if new.auth_method == "client_secret_basic" else None
    client = Client(
        client_id=new.client_id or secrets.token_urlsafe(18),
        name=new.name.strip(),
        client_secret_hash=hash_secret(secret) if secret else None,
        token_endpoint_auth_method=new.auth_method,
        redirect_uris=list(new.redirect_uris),
        post_logout_redirect_uris=list(new.post_logout_redirect_uris or []),
        backchannel_logout_uri=new.backchannel_logout_uri or None,
        security_event_uri=new.security_event_uri or None,
        jwks=_jwks(new),
        jwks_uri=new.jwks_uri or None,
        landing_page_url=new.landing_page_url or None,
        id_token_signed_response_alg=new.id_token_alg,
        subject_type=new.subject_type,
        sector_identifier=check_sector(
            new.sector_identifier or default_sector(new.redirect_uris), new.redirect_uris
        ),
        scopes=new.scopes or DEFAULT_SCOPES,
        claims=sorted(set(claims) | {c for claim in claims for c in COMPANIONS.get(claim, ())}),
        created_at=now,
    )
    db.add(client)
    db.flush()
    first_agreement(
        db, client.client_id, claims, client.name, now, registered_by, operator_approves=operator_approves
    )
    return client, secret


class RelyingServices:
    """Registering and changing relying services, for the console and the command line alike."""

    def __init__(
        self,
        db: Session,
        clock: Callable[[], datetime],
        *,
        allow_private_outbound: bool = False,
        operator_approves: bool = False,
    ) -> None:
        self.db, self.clock, self.allow_private_outbound = db, clock, allow_private_outbound
        self.operator_approves = operator_approves

    def listing(self) -> tuple[list[Client], dict[str, Mou]]:
        """Every service by name, and each one's agreement by client id."""
        clients = list(self.db.scalars(select(Client).order_by(Client.name)))
        return clients, {m.client_id: m for m in self.db.scalars(select(Mou))}

    def get(self, client_id: str) -> Client:
        client = self.db.get(Client, client_id)
        if client is None:
            raise PageNotFound("There is no such service.")
        return client

    def register(self, new: NewClient, registered_by: str | None) -> tuple[Client, str | None]:
        """Register ``new`` (see :func:`register_client`), audited as done by ``registered_by`` (the
        operator at the command line when None). Returns the client and its secret, shown once."""
        with unit_of_work(self.db):
            client, secret = register_client(
                self.db,
                new,
                self.clock(),
                registered_by,
                allow_private_outbound=self.allow_private_outbound,
                operator_approves=self.operator_approves,
            )
            record(
                self.db,
                "client.registered",
                now=self.clock(),
                actor=registered_by or "operator",
                subject=client.client_id,
            )
        return client, secret

    def change(self, client_id: str, new: NewClient, changed_by: str) -> Client:
        """Change a service's addresses, keys, authentication and sector under the registration rules.
        Its name for people, claims and agreement are not changed here (claims change by agreement).
        The sector cannot change once people have used the service: their ``sub`` would change."""
        client = self.get(client_id)
        new = replace(new, sector_identifier=new.sector_identifier or client.sector_identifier)
        errors = problems(new, self.allow_private_outbound)
        errors.pop("claims", None)
        used = self.db.scalar(select(Grant.id).filter_by(client_id=client_id).limit(1)) is not None
        if new.sector_identifier != client.sector_identifier and used:
            errors["sector_identifier"] = (
                "The sector identifier cannot change once people have used the service"
            )
        if errors:
            raise RegistrationInvalid(errors)
        assert new.sector_identifier is not None
        with unit_of_work(self.db):
            client.name = new.name.strip()
            client.redirect_uris = list(new.redirect_uris)
            client.post_logout_redirect_uris = list(new.post_logout_redirect_uris or [])
            client.backchannel_logout_uri = new.backchannel_logout_uri or None
            client.security_event_uri = new.security_event_uri or None
            client.jwks_uri, client.jwks = new.jwks_uri or None, _jwks(new)
            client.landing_page_url = new.landing_page_url or None
            client.token_endpoint_auth_method = new.auth_method
            client.id_token_signed_response_alg = new.id_token_alg
            client.sector_identifier = check_sector(new.sector_identifier, new.redirect_uris)
            record(self.db, "client.updated", now=self.clock(), actor=changed_by, subject=client_id)
        return client
