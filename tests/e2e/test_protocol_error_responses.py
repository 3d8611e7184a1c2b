"""Every protocol error answered exactly as relying services have always seen it: status, body bytes
and headers, for the token, introspection, revocation, UserInfo and authorization endpoints (the
translator in broker/errors.py writes all of them). Values that change per request (the client's
redirect URI and id, cookies, the date) are replaced by placeholders before comparing."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from tests.e2e.rp import RelyingParty

SQLITE_ONLY = pytest.mark.parametrize("broker", ["sqlite"], indirect=True)  # storage plays no part
# Set per request, or by the security-headers middleware for every response alike.
LEFT_OUT = {
    "date",
    "server",
    "set-cookie",
    "x-request-id",
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "cross-origin-opener-policy",
    "permissions-policy",
}
GOLDEN = Path(__file__).with_name("protocol_errors.json")


def _basic(rp: RelyingParty, secret: str | None = None) -> dict[str, str]:
    raw = f"{rp.client_id}:{secret if secret is not None else rp.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def _seen(response: httpx.Response, rp: RelyingParty) -> dict[str, Any]:
    def plain(text: str) -> str:
        for value, name in (
            (rp.redirect_uri, "redirect_uri"),
            (rp.issuer, "issuer"),
            (rp.client_id, "client_id"),
        ):
            text = text.replace(value, f"{{{name}}}").replace(quote(value, safe=""), f"{{{name}}}")
        return text

    items = response.headers.multi_items()
    headers = [[k.lower(), plain(v)] for k, v in items if k.lower() not in LEFT_OUT]
    cookies = sorted(v.split("=")[0] for k, v in items if k.lower() == "set-cookie")
    body = plain(response.text) if "json" in response.headers.get("content-type", "") else None
    return {"status": response.status_code, "headers": headers, "cookies": cookies, "body": body}


def _authorize(rp: RelyingParty, **overrides: str | None) -> str:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid email",
        "state": "st",
        "nonce": "n-1",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return f"{rp.issuer}/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def _requests(rp: RelyingParty, http: httpx.Client) -> dict[str, httpx.Response]:
    token, introspect, revoke = (f"{rp.issuer}/{name}" for name in ("token", "introspect", "revoke"))
    userinfo = f"{rp.issuer}/userinfo"
    code = {"grant_type": "authorization_code", "redirect_uri": rp.redirect_uri, "code_verifier": "v" * 43}
    return {
        "token unknown code": http.post(token, data={**code, "code": "nope"}, headers=_basic(rp)),
        "token wrong secret": http.post(token, data={**code, "code": "nope"}, headers=_basic(rp, "wrong")),
        "token no client": http.post(token, data={**code, "code": "nope"}),
        "token no code": http.post(token, data=code, headers=_basic(rp)),
        "token password grant": http.post(
            token, data={"grant_type": "password", "username": "a", "password": "b"}, headers=_basic(rp)
        ),
        "token odd grant type": http.post(token, data={"grant_type": 'x"y'}, headers=_basic(rp)),
        "token refresh unknown": http.post(
            token, data={"grant_type": "refresh_token", "refresh_token": "nope"}, headers=_basic(rp)
        ),
        "introspect no client": http.post(introspect, data={"token": "nope"}),
        "introspect no token": http.post(introspect, data={}, headers=_basic(rp)),
        "revoke bad hint": http.post(
            revoke, data={"token": "nope", "token_type_hint": "id_token"}, headers=_basic(rp)
        ),
        "revoke unknown token": http.post(revoke, data={"token": "nope"}, headers=_basic(rp)),
        "userinfo no credentials": http.get(userinfo),
        "userinfo basic": http.get(userinfo, headers={"Authorization": "Basic abc"}),
        "userinfo empty bearer": http.get(userinfo, headers={"Authorization": "Bearer"}),
        "userinfo bad token": http.get(userinfo, headers={"Authorization": "Bearer not.a.jwt"}),
        "userinfo token in query": http.get(userinfo, params={"access_token": "x"}),
        "userinfo token in form": http.post(userinfo, data={"access_token": "x"}),
        "authorize unsupported response type": http.get(_authorize(rp, response_type="token")),
        "authorize no response type": http.get(_authorize(rp, response_type=None)),
        "authorize no pkce": http.get(_authorize(rp, code_challenge=None, code_challenge_method=None)),
        "authorize plain pkce": http.get(_authorize(rp, code_challenge_method="plain")),
        "authorize no openid": http.get(_authorize(rp, scope="email")),
        "authorize scope not allowed": http.get(_authorize(rp, scope="openid admin")),
        "authorize request object": http.get(_authorize(rp, request="eyJhbGciOiJub25lIn0.e30.")),
        "authorize request uri": http.get(_authorize(rp, request_uri="https://rp.example/r")),
        "authorize response mode": http.get(_authorize(rp, response_mode="fragment")),
        "authorize max age": http.get(_authorize(rp, max_age="soon")),
        "authorize vtr": http.get(_authorize(rp, vtr='["Cl.P2"]')),
        "authorize claims": http.get(_authorize(rp, claims="{not json")),
        "authorize claim not agreed": http.get(
            _authorize(rp, claims='{"userinfo": {"https://vocab.account.gov.uk/v1/passport": null}}')
        ),
        "authorize scope claim not agreed": http.get(_authorize(rp, scope="openid address")),
        "authorize repeated": http.get(_authorize(rp) + "&state=again"),
        "authorize prompt none": http.get(_authorize(rp, prompt="none")),
        "authorize prompt none login": http.get(_authorize(rp, prompt="none login")),
        "authorize repeated client id": http.get(_authorize(rp) + "&client_id=again"),
        "authorize unknown client": http.get(_authorize(rp, client_id="nobody")),
        "authorize unregistered redirect": http.get(
            _authorize(rp, redirect_uri="https://elsewhere.example/cb")
        ),
    }


@SQLITE_ONLY
def test_protocol_errors_are_answered_as_before(make_rp):
    rp = make_rp()
    with httpx.Client(timeout=10, follow_redirects=False) as http:
        seen = {name: _seen(response, rp) for name, response in _requests(rp, http).items()}
    if os.environ.get("BROKER_WRITE_GOLDEN"):  # only to record a deliberate change of the protocol
        GOLDEN.write_text(json.dumps(seen, indent=1) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert list(seen) == list(expected)
    for name, answer in expected.items():
        assert seen[name] == answer, name
