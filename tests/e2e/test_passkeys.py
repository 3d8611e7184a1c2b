"""Passkeys over HTTP with a software authenticator: who may add one (two factors, signed in within 15
minutes), the session's new secret after a change, several passkeys on one account, and assertions
made for another origin or RP ID (phishing) refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from broker.store.models import Account, AuditEvent
from tests.e2e.agent import UserAgent, latest_code
from tests.e2e.authenticator import SoftAuthenticator


def json_post(ua: UserAgent, url: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """What passkey.js sends: JSON with the page's CSRF token in a header."""
    return ua.http.post(url, json=body or {}, headers={"X-CSRF-Token": ua.csrf})


def sign_in(broker, rp, email: str, vtr: str | None = None) -> UserAgent:
    ua = UserAgent(broker)
    ua.authorize(rp.authorization_url(**({"vtr": vtr} if vtr else {})), email=email)
    return ua


def add_passkey(ua: UserAgent, authenticator: SoftAuthenticator, name: str) -> httpx.Response:
    options = json_post(ua, f"{ua.broker.url}/account/passkeys/options")
    assert options.status_code == 200, options.text
    credential = authenticator.create(options.json())
    return json_post(ua, f"{ua.broker.url}/account/passkeys", {"credential": credential, "name": name})


def passkey_sign_in(broker, rp, authenticator, credential, **wrong: str) -> tuple[UserAgent, httpx.Response]:
    ua = UserAgent(broker)
    here = ua.go(rp.authorization_url(prompt="login"))
    options = json_post(ua, f"{here}/passkey/options").json()
    return ua, json_post(
        ua, f"{here}/passkey", {"credential": authenticator.get(options, credential, **wrong)}
    )


def test_a_password_alone_cannot_add_change_or_remove_a_passkey(broker, make_rp, person):
    rp = make_rp()
    ua = sign_in(broker, rp, person, vtr='["Cl"]')
    refused = json_post(ua, f"{broker.url}/account/passkeys/options")
    assert refused.status_code == 401 and refused.json()["error"] == "login_required"
    assert refused.json()["location"] == "/account/sign-in?next=%2Faccount%2Fsecurity"
    assert json_post(ua, f"{broker.url}/account/passkeys", {"credential": {}}).status_code == 401
    for action in ("remove", "rename"):
        response = ua.post(f"{broker.url}/account/passkeys/any/{action}", {"name": "x"})
        assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in")
    # Stepping up asks only for the second factor (the password is this session's), then they may.
    here = ua.go(f"{broker.url}{refused.json()['location']}")
    assert here.endswith("/code")
    here = ua.submit(here, {"code": latest_code(broker, person)})
    assert here == f"{broker.url}/account/security"
    assert json_post(ua, f"{broker.url}/account/passkeys/options").status_code == 200
    ua.close()


def test_a_stale_session_must_sign_in_again_to_add_a_passkey(clock, make_rp, person):
    broker, rp = clock, make_rp()
    ua = sign_in(broker, rp, person)
    broker.travel(timedelta(minutes=16))
    refused = json_post(ua, f"{broker.url}/account/passkeys/options")
    assert refused.status_code == 401 and refused.json()["location"].startswith("/account/sign-in")
    ua.close()


def test_several_passkeys_each_sign_in_and_each_change_renews_the_session(broker, make_rp, person):
    rp = make_rp()
    ua = sign_in(broker, rp, person)
    authenticator = SoftAuthenticator(broker.url)
    for name in ("Laptop", "Phone"):
        before = ua.http.cookies.get("broker-session")
        added = add_passkey(ua, authenticator, name)
        assert added.status_code == 200, added.text
        assert ua.http.cookies.get("broker-session") not in (None, before)
        stale = UserAgent(broker)
        stale.http.cookies.set("broker-session", before)
        assert stale.http.get(f"{broker.url}/account/security").status_code == 303  # the old cookie is dead
        stale.close()
    for credential in authenticator.credentials:
        other, response = passkey_sign_in(broker, rp, authenticator, credential)
        assert response.status_code == 200, response.text
        claims = rp.redeem(other.authorize(response.json()["location"]))["id_claims"]
        assert claims["vot"] == "Cl.Cm" and claims["amr"] == ["hwk", "user"]
        other.close()
    ua.close()


def test_an_assertion_for_another_origin_or_rp_id_is_refused(broker, make_rp, person):
    rp = make_rp()
    ua = sign_in(broker, rp, person)
    authenticator = SoftAuthenticator(broker.url)
    assert add_passkey(ua, authenticator, "Laptop").status_code == 200
    credential = authenticator.credentials[0]
    for wrong in ({"origin": "https://broker.evil.example"}, {"rp_id": "evil.example"}):
        other, response = passkey_sign_in(broker, rp, authenticator, credential, **wrong)
        assert response.status_code == 400 and response.json()["error"] == "passkey_failed", wrong
        assert "broker-session" not in other.http.cookies
        other.close()
    with broker.db() as db:
        account = db.scalars(select(Account).where(Account.email == person)).one()
        failures = db.scalars(
            select(AuditEvent).where(AuditEvent.subject == account.id, AuditEvent.action == "sign_in.failure")
        ).all()
        assert [e.details["reason"] for e in failures] == ["passkey", "passkey"]
    ua.close()
