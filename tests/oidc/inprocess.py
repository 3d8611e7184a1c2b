"""An in-process broker for the protocol endpoints' own tests: a registered service, a person signed in
on the test client's browser, and the authorization code flow driven over HTTP (no live server)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient

from broker.accounts.passwords import PasswordService
from broker.accounts.service import AccountService
from broker.accounts.sessions import SessionService, session_cookie
from broker.app import create_app
from broker.config import load_settings
from broker.deps import utc_now
from broker.oidc.clients import NewClient, register_client
from broker.store.db import transaction
from tests.e2e.conftest import TEST_HASHER

ISSUER = "http://broker.test"
REDIRECT = "https://service.example/callback"


@dataclass
class Service:
    client_id: str
    client_secret: str


def make_app(var: Path) -> FastAPI:
    settings = load_settings(
        env="test", issuer=ISSUER, database_url=f"sqlite:///{var}/b.db", key_encryption_key_file=var / "kek"
    )
    return create_app(settings)


def register(app: FastAPI, **changes: Any) -> Service:
    new = NewClient(**{"name": "Licences", "redirect_uris": [REDIRECT], "claims": ["email"], **changes})
    with transaction(app.state.services.session_factory) as db:
        client, secret = register_client(db, new, utc_now(), operator_approves=True)
        return Service(client.client_id, str(secret))


def sign_in(app: FastAPI, http: TestClient) -> str:
    """A new person, signed in with two factors on ``http``'s browser; their session id."""
    services = app.state.services
    now = utc_now()
    with transaction(services.session_factory) as db:
        email = f"person-{secrets.token_hex(6)}@example.org"
        account = AccountService(db, PasswordService(hasher=TEST_HASHER)).create(
            email, "correct horse battery staple", verified=True, now=now
        )
        session, secret = SessionService(db, services.settings).start(
            account.id, ["pwd", "otp"], "Cl.Cm", now
        )
        session_id = session.id
    http.cookies.set(session_cookie(services.settings), secret)
    return session_id


def code_for(http: TestClient, service: Service, scope: str = "openid") -> tuple[str, str]:
    """An authorization code for the signed-in person, and its PKCE verifier."""
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    response = http.get(
        "/authorize",
        params={
            "response_type": "code",
            "client_id": service.client_id,
            "redirect_uri": REDIRECT,
            "scope": scope,
            "state": "s",
            "nonce": "n-" + secrets.token_hex(4),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 302, response.headers.get("location", response.text)
    params = parse_qs(urlsplit(response.headers["location"]).query)
    assert "code" in params, params
    return params["code"][0], verifier


def redeem(http: TestClient, service: Service, code: str, verifier: str, **extra: str) -> Any:
    return http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            **extra,
        },
        auth=(service.client_id, service.client_secret),
    )


def tokens_for(http: TestClient, service: Service, scope: str = "openid") -> dict[str, Any]:
    response = redeem(http, service, *code_for(http, service, scope))
    assert response.status_code == 200, response.text
    return dict(response.json())


def verify_id_token(app: FastAPI, token: str, audience: str) -> dict[str, Any]:
    return dict(app.state.services.signer.verify(token, audience=audience, issuer=ISSUER))


def later(seconds: int) -> int:
    return int(time.time()) + seconds
