"""The UserInfo endpoint (OIDC Core §5.3), one rule per test, on an in-process broker: the bearer token
only in the Authorization header (RFC 6750 §2.1), and the challenge for each way a token can be wrong."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.oidc.inprocess import ISSUER, Service, make_app, register, sign_in, tokens_for, verify_id_token


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return make_app(tmp_path_factory.mktemp("userinfo"))


@pytest.fixture(scope="module")
def service(app: FastAPI) -> Service:
    return register(app)


@pytest.fixture(scope="module")
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as client:
        sign_in(app, client)
        yield client


@pytest.fixture(scope="module")
def tokens(http: TestClient, service: Service) -> dict[str, Any]:
    return tokens_for(http, service)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_subject_is_returned_for_a_live_access_token(
    app: FastAPI, http: TestClient, service: Service, tokens: dict[str, Any], method: str
) -> None:
    response = http.request(method, "/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    # OIDC Core §5.3.2: the sub is the ID token's; nothing else was asked for or agreed to.
    assert response.json() == {"sub": verify_id_token(app, tokens["id_token"], service.client_id)["sub"]}


def test_without_credentials_the_challenge_names_the_scheme_only(http: TestClient) -> None:
    # RFC 6750 §3.1: no error code when the request has no authentication information.
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = http.get("/userinfo", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("where", ["query", "form"])
def test_a_token_in_the_query_or_form_is_refused(
    http: TestClient, tokens: dict[str, Any], where: str
) -> None:
    if where == "query":
        response = http.get("/userinfo", params={"access_token": tokens["access_token"]})
    else:
        response = http.post("/userinfo", data={"access_token": tokens["access_token"]})
    assert response.status_code == 400
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda tokens: "", id="empty"),
        pytest.param(lambda tokens: "not-a-token", id="not a token"),
        pytest.param(lambda tokens: tokens["id_token"], id="an ID token"),
        pytest.param(lambda tokens: tokens["access_token"][:-4] + "AAAA", id="signature changed"),
    ],
)
def test_a_token_that_is_not_a_live_access_token_of_this_broker_is_invalid_token(
    http: TestClient, tokens: dict[str, Any], token: Any
) -> None:
    response = http.get("/userinfo", headers={"Authorization": f"Bearer {token(tokens)}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_revoked_access_token_is_invalid_token(http: TestClient, service: Service) -> None:
    fresh = tokens_for(http, service)
    revoked = http.post(
        "/revoke", data={"token": fresh["access_token"]}, auth=(service.client_id, service.client_secret)
    )
    assert revoked.status_code == 200  # RFC 7009 §2.2
    response = http.get("/userinfo", headers=bearer(fresh["access_token"]))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_nothing_is_released_once_the_services_agreement_is_no_longer_in_force(
    app: FastAPI, http: TestClient, tokens: dict[str, Any]
) -> None:
    # The agreement is checked again at each release (broker.oidc.release): one that ended after the
    # token was issued stops the release, with the bearer challenge for a token that may not do this.
    services = app.state.services
    usual = services.clock
    services.clock = lambda: usual() + timedelta(days=400)  # past the registered agreement's end
    try:
        response = http.get("/userinfo", headers=bearer(tokens["access_token"]))
    finally:
        services.clock = usual
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert http.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 200
