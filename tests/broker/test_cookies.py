"""Over https the session and browser cookies take the __Host- prefix and are Secure (RFC 6265bis §4.1.3.2)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from broker.accounts.service import AccountService
from broker.app import create_app
from broker.config import load_settings
from broker.deps import utc_now
from broker.oidc.clients import NewClient, register_client
from broker.store.db import transaction
from broker.webkit.csrf import token_for


def test_https_issuer_sets_host_prefixed_secure_cookies(tmp_path):
    settings = load_settings(
        env="test",
        issuer="https://broker.test",
        database_url=f"sqlite:///{tmp_path}/b.db",
        key_encryption_key_file=tmp_path / "kek",
    )
    app = create_app(settings)
    services = app.state.services
    with transaction(services.session_factory) as db:
        client, _ = register_client(
            db, NewClient(name="S", redirect_uris=["https://rp.test/cb"]), utc_now(), operator_approves=True
        )
        AccountService(db, services.passwords).create(
            "p@example.org", "a long passphrase", verified=True, now=utc_now()
        )
        client_id = client.client_id
    with TestClient(app, base_url="https://broker.test") as http:
        start = http.get(
            "/authorize",
            params={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": "https://rp.test/cb",
                "scope": "openid",
                "vtr": '["Cl"]',
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "S256",
            },
            follow_redirects=False,
        )
        browser_cookie = start.headers["set-cookie"]
        assert "Secure" in browser_cookie and "HttpOnly" in browser_cookie
        browser = http.cookies.get("__Host-broker-browser")
        assert re.match(r"__Host-broker-browser=[^;]+;", browser_cookie) and "Domain" not in browser_cookie
        csrf = token_for(services.key_service.anti_forgery_key(), browser, None)
        signed_in = http.post(
            start.headers["location"],
            data={"email": "p@example.org", "password": "a long passphrase", "csrf_token": csrf},
            follow_redirects=False,
        )
        cookie = signed_in.headers["set-cookie"]
        assert re.match(r"__Host-broker-session=[^;]+;", cookie)
        for attribute in ("HttpOnly", "Path=/", "SameSite=lax", "Secure"):
            assert attribute in cookie
        assert "Domain" not in cookie
        done = http.get(signed_in.headers["location"], follow_redirects=False)
        assert done.headers["location"].startswith("https://rp.test/cb?code=")
