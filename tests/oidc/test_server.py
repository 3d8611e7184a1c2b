"""The token endpoint as Authlib runs it with our storage hooks (broker.oidc.server), one rule per test,
on an in-process broker: codes, PKCE, client authentication and refresh-token rotation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.oidc.inprocess import (
    ISSUER,
    REDIRECT,
    Service,
    code_for,
    make_app,
    redeem,
    register,
    sign_in,
    tokens_for,
    verify_id_token,
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return make_app(tmp_path_factory.mktemp("server"))


@pytest.fixture(scope="module")
def service(app: FastAPI) -> Service:
    return register(app)


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as client:
        sign_in(app, client)
        yield client


def userinfo_status(http: TestClient, access_token: str) -> int:
    return http.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"}).status_code


def test_a_code_is_exchanged_for_an_id_token_about_the_session_signed_for_the_service(
    app: FastAPI, http: TestClient, service: Service
) -> None:
    code, verifier = code_for(http, service)
    response = redeem(http, service, code, verifier)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"  # RFC 6749 §5.1
    body = response.json()
    assert body["token_type"] == "Bearer" and body["access_token"] and "refresh_token" not in body
    claims = verify_id_token(app, body["id_token"], service.client_id)
    assert claims["iss"] == ISSUER and claims["aud"] == service.client_id
    assert claims["vot"] == "Cl.Cm" and claims["sid"] and claims["sub"]
    assert "at_hash" in claims  # OIDC Core §3.1.3.6: bound to the access token issued with it


def test_a_code_used_twice_is_refused_and_revokes_what_it_issued(http: TestClient, service: Service) -> None:
    # RFC 6749 §4.1.2: the second use is refused, and tokens issued from the code are revoked.
    code, verifier = code_for(http, service)
    first = redeem(http, service, code, verifier).json()
    assert userinfo_status(http, first["access_token"]) == 200
    again = redeem(http, service, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert userinfo_status(http, first["access_token"]) == 401


def test_a_code_verifier_that_does_not_match_the_challenge_is_refused(
    http: TestClient, service: Service
) -> None:
    # RFC 7636 §4.6.
    code, _ = code_for(http, service)
    response = redeem(http, service, code, "a-verifier-of-another-request-entirely-43-chars")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_code_without_its_verifier_is_refused(http: TestClient, service: Service) -> None:
    code, _ = code_for(http, service)
    response = http.post(
        "/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(service.client_id, service.client_secret),
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_a_code_is_only_for_the_service_it_was_issued_to(
    app: FastAPI, http: TestClient, service: Service
) -> None:
    other = register(app, name="Parking")
    code, verifier = code_for(http, service)
    response = redeem(http, other, code, verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    # The code was not spent by the attempt: the service it belongs to can still redeem it once.
    assert redeem(http, service, code, verifier).status_code == 200


def test_a_code_is_only_redeemed_with_the_redirect_uri_it_was_issued_for(
    http: TestClient, service: Service
) -> None:
    # RFC 6749 §4.1.3: redirect_uri must be identical to the authorization request's.
    code, verifier = code_for(http, service)
    response = redeem(http, service, code, verifier, redirect_uri=REDIRECT + "/other")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_an_unknown_code_is_refused(http: TestClient, service: Service) -> None:
    response = redeem(http, service, "no-such-code", "v" * 43)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_wrong_client_secret_is_refused_as_invalid_client(http: TestClient, service: Service) -> None:
    # RFC 6749 §5.2: 401 with a challenge for the scheme the client used.
    code, verifier = code_for(http, service)
    response = redeem(http, Service(service.client_id, "not-the-secret"), code, verifier)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_a_grant_type_the_broker_does_not_offer_is_refused(http: TestClient, service: Service) -> None:
    response = http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        auth=(service.client_id, service.client_secret),
    )
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


def refresh(http: TestClient, service: Service, token: str) -> object:
    return http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=(service.client_id, service.client_secret),
    )


def test_a_refresh_token_is_issued_for_offline_access_and_rotates(http: TestClient, service: Service) -> None:
    first = tokens_for(http, service, scope="openid offline_access")
    assert first["refresh_token"]
    rotated = refresh(http, service, first["refresh_token"])
    assert rotated.status_code == 200  # type: ignore[attr-defined]
    body = rotated.json()  # type: ignore[attr-defined]
    assert body["refresh_token"] != first["refresh_token"]
    assert userinfo_status(http, body["access_token"]) == 200


def test_a_replayed_refresh_token_ends_the_whole_family(http: TestClient, service: Service) -> None:
    # RFC 9700 §4.14.2: reuse means two parties hold it, so every token of the grant is revoked.
    first = tokens_for(http, service, scope="openid offline_access")
    rotated = refresh(http, service, first["refresh_token"]).json()  # type: ignore[attr-defined]
    replay = refresh(http, service, first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"  # type: ignore[attr-defined]
    later = refresh(http, service, rotated["refresh_token"])
    assert later.json()["error"] == "invalid_grant"  # type: ignore[attr-defined]
    assert userinfo_status(http, rotated["access_token"]) == 401


def test_a_refresh_token_is_only_for_the_service_it_was_issued_to(
    app: FastAPI, http: TestClient, service: Service
) -> None:
    first = tokens_for(http, service, scope="openid offline_access")
    other = register(app, name="Libraries")
    response = refresh(http, other, first["refresh_token"])
    assert response.json()["error"] == "invalid_grant"  # type: ignore[attr-defined]
