"""UserInfo (OIDC Core §5.3) and bearer token errors (RFC 6750 §3)."""

from __future__ import annotations

import httpx


def _token(make_rp, person, agent):
    rp = make_rp()
    return rp, rp.redeem(agent.authorize(rp.authorization_url(), email=person))


def test_get_and_post_with_the_header(make_rp, person, agent):
    rp, token = _token(make_rp, person, agent)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert httpx.get(rp.metadata["userinfo_endpoint"], headers=headers).json()["email"] == person
    assert httpx.post(rp.metadata["userinfo_endpoint"], headers=headers).json()["email"] == person


def test_token_outside_the_header_is_refused(make_rp, person, agent):
    rp, token = _token(make_rp, person, agent)
    url = rp.metadata["userinfo_endpoint"]
    for response in (
        httpx.get(url, params={"access_token": token["access_token"]}),
        httpx.post(url, data={"access_token": token["access_token"]}),
    ):
        assert response.status_code == 400
        assert 'error="invalid_request"' in response.headers["www-authenticate"]


def test_no_credentials_get_a_bare_bearer_challenge(broker):
    """RFC 6750 §3.1: a request without authentication information (or with another scheme) is told
    the scheme only, no error code."""
    for headers in ({}, {"Authorization": "Basic abc"}):
        response = httpx.get(f"{broker.url}/userinfo", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"


def test_malformed_or_tampered_token_is_invalid_token(make_rp, person, agent):
    rp, token = _token(make_rp, person, agent)
    head, body, sig = token["access_token"].split(".")
    tampered = ".".join((head, body[:-2] + ("AA" if body[-2:] != "AA" else "BB"), sig))
    for headers in (
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": f"Bearer {tampered}"},
        {"Authorization": f"Bearer {token['id_token']}"},
    ):
        response = httpx.get(rp.metadata["userinfo_endpoint"], headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
