"""The demo relying service against a live broker, when the broker's answer is not good: a clear
"Sign-in failed" page, never a 500; and its back-channel logout takes only logout tokens."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from authlib.integrations.starlette_client.apps import StarletteOAuth2App
from starlette.testclient import TestClient

from broker.demo.rp import create_rp_app
from broker.oidc.tokens import LOGOUT_TOKEN_TYP, logout_token_claims
from broker.policy.service import governing
from broker.store.db import transaction
from tests.e2e.agent import UserAgent
from tests.e2e.conftest import broker, clock, person  # noqa: F401 (the live broker's fixtures)

pytestmark = pytest.mark.parametrize("broker", ["sqlite"], indirect=True)  # the database does not matter
RP = "http://localhost:9555"


def demo_rp(broker) -> tuple[str, TestClient]:  # noqa: F811
    info = broker.create_client(
        redirect_uris=[f"{RP}/callback"],
        post_logout_redirect_uris=[f"{RP}/"],
        claims=["email", "phone_number"],
    )
    app = create_rp_app(
        issuer=broker.url,
        client_id=str(info["client_id"]),
        client_secret=str(info["client_secret"]),
        redirect_uri=f"{RP}/callback",
        post_logout_redirect_uri=f"{RP}/",
        session_secret="s" * 32,
    )
    return str(info["client_id"]), TestClient(
        app, base_url=RP, follow_redirects=False, raise_server_exceptions=False
    )


def sign_in(broker, rp: TestClient, person: str):  # noqa: F811
    started = rp.post("/login")
    callback = UserAgent(broker).authorize(started.headers["location"], email=person)
    return rp.get(callback.url.removeprefix(RP))


def test_signing_in_works(broker, person):  # noqa: F811
    _, rp = demo_rp(broker)
    assert sign_in(broker, rp, person).headers["location"] == "/"


def test_an_id_token_that_has_expired_is_a_sign_in_failed_page(clock, person):  # noqa: F811
    clock.travel(-timedelta(hours=3))  # the broker's clock is behind: its ID token has already expired
    _, rp = demo_rp(clock)  # registered on the broker's day (before 03:00 that is yesterday), so in force
    page = sign_in(clock, rp, person)
    assert page.status_code == 400
    assert "Sign-in failed</h1>" in page.text and "ID token" in page.text


def test_userinfo_refused_by_the_broker_is_a_sign_in_failed_page(broker, person, monkeypatch):  # noqa: F811
    client_id, rp = demo_rp(broker)
    original = StarletteOAuth2App.authorize_access_token

    async def then_suspend(self, request, **kwargs):  # the MOU is suspended just after the token
        token = await original(self, request, **kwargs)
        with transaction(broker.db) as db:
            governing(db, client_id).status = "suspended"
        return token

    monkeypatch.setattr(StarletteOAuth2App, "authorize_access_token", then_suspend)
    page = sign_in(broker, rp, person)
    assert page.status_code == 400
    assert "Sign-in failed</h1>" in page.text and "403" in page.text


def test_back_channel_logout_takes_only_a_token_typed_as_a_logout_token(broker):  # noqa: F811
    client_id, rp = demo_rp(broker)

    def logout_token(typ: str | None) -> str:
        claims = logout_token_claims(
            issuer=broker.url,
            client_id=client_id,
            sub="someone",
            sid=uuid.uuid4().hex,
            now=broker.services.clock(),
        )
        return broker.services.signer.sign(claims, typ=typ)

    for typ in (None, "JWT"):  # e.g. an ID token's header: RFC 8725 §3.11 explicit typing
        refused = rp.post("/backchannel-logout", data={"logout_token": logout_token(typ)})
        assert refused.status_code == 400 and "logout+jwt" in refused.json()["error_description"]
    assert (
        rp.post("/backchannel-logout", data={"logout_token": logout_token(LOGOUT_TOKEN_TYP)}).status_code
        == 200
    )
