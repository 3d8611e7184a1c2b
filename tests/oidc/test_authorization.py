"""The authorization endpoint's named checks, one rule per test, through GET /authorize on an in-process
broker: what the relying service is sent back (or that nothing is sent back when it cannot be trusted)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from broker.deps import utc_now
from broker.oidc.clients import NewClient, register_client
from broker.store.db import transaction
from tests.oidc.inprocess import ISSUER, REDIRECT, make_app

CORE = "https://vocab.account.gov.uk/v1/coreIdentityJWT"


@dataclass
class Service:
    client_id: str
    redirect_uri: str


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return make_app(tmp_path_factory.mktemp("authorize"))


@pytest.fixture(scope="module")
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as client:
        yield client


@pytest.fixture(scope="module")
def service(app: FastAPI) -> Service:
    """A service registered for the email scope only, whose agreement covers the email address."""
    with transaction(app.state.services.session_factory) as db:
        client, _ = register_client(
            db,
            NewClient(
                name="Licences", redirect_uris=[REDIRECT], claims=["email"], scopes=["openid", "email"]
            ),
            utc_now(),
            operator_approves=True,
        )
        return Service(client.client_id, REDIRECT)


def valid_request(service: Service, **changes: str | None) -> dict[str, str]:
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": service.client_id,
        "redirect_uri": service.redirect_uri,
        "scope": "openid email",
        "state": "state-123",
        "nonce": "nonce-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **changes,
    }
    return {k: v for k, v in params.items() if v is not None}


def sent_back(response: object, service: Service) -> dict[str, str]:
    """The parameters of a redirect to the service's own redirect URI (and nothing else)."""
    assert response.status_code == 302, response.text  # type: ignore[attr-defined]
    location = urlsplit(response.headers["location"])  # type: ignore[attr-defined]
    assert f"{location.scheme}://{location.netloc}{location.path}" == service.redirect_uri
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def authorize(http: TestClient, params: dict[str, str] | list[tuple[str, str]]) -> object:
    return http.get("/authorize", params=params)


def test_a_valid_request_without_a_session_is_sent_to_sign_in(http: TestClient, service: Service) -> None:
    response = authorize(http, valid_request(service))
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"].startswith(f"{ISSUER}/sign-in/")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("changes", "error", "description"),
    [
        # OIDC Core §3.1.2.1: an OpenID request carries the openid scope.
        ({"scope": "email"}, "invalid_scope", "scope must include openid"),
        ({"scope": "openid phone"}, "invalid_scope", "scope not allowed for this service: phone"),
        # OIDC Core §6: request objects are not supported, each refused with its own code.
        (
            {"request": "eyJhbGciOiJub25lIn0.e30."},
            "request_not_supported",
            "request objects are not supported",
        ),
        (
            {"request_uri": "https://service.example/request.jwt"},
            "request_uri_not_supported",
            "request_uri is not supported",
        ),
        ({"response_mode": "fragment"}, "invalid_request", "response_mode must be query"),
        ({"max_age": "ten"}, "invalid_request", "max_age must be a whole number of seconds"),
        ({"max_age": "-5"}, "invalid_request", "max_age must be a whole number of seconds"),
        ({"vtr": '["Cl.P2"]'}, "invalid_request", "Request vtr not valid"),
        ({"vtr": "not json"}, "invalid_request", "Request vtr not valid"),
        ({"claims": "{not json"}, "invalid_request", "claims is not valid JSON"),
        ({"claims": "[]"}, "invalid_request", "claims must be a JSON object"),
        (
            {"claims": '{"userinfo": {"email": true}}'},
            "invalid_request",
            "claims.userinfo.email must be null",
        ),
        # RFC 9700 §2.1.1: PKCE with S256 for every client.
        ({"code_challenge": None}, "invalid_request", "PKCE is required"),
        ({"code_challenge_method": "plain"}, "invalid_request", "code_challenge_method must be S256"),
        # RFC 6749 §4.1.2.1: a missing response_type is invalid_request, once the redirect URI is trusted.
        ({"response_type": None}, "invalid_request", "response_type is required"),
    ],
)
def test_a_request_that_breaks_a_rule_is_sent_back_with_its_error_state_and_issuer(
    http: TestClient, service: Service, changes: dict[str, str | None], error: str, description: str
) -> None:
    params = sent_back(authorize(http, valid_request(service, **changes)), service)
    assert params["error"] == error
    assert params["error_description"].startswith(description)
    # RFC 9207 §2: every authorization response names the issuer; state comes back unchanged.
    assert params["state"] == "state-123"
    assert params["iss"] == ISSUER
    assert "code" not in params


def test_a_claim_outside_the_agreement_is_refused_with_the_reason_not_dropped(
    http: TestClient, service: Service
) -> None:
    claims = json.dumps({"userinfo": {"phone_number": None}})
    params = sent_back(authorize(http, valid_request(service, claims=claims)), service)
    assert params["error"] == "access_denied"
    assert params["error_description"] == (
        "this service may not receive phone_number: the data sharing agreement does not cover it"
    )


def test_an_identity_claim_the_agreement_does_not_cover_is_refused(
    http: TestClient, service: Service
) -> None:
    claims = json.dumps({"userinfo": {CORE: None}})
    params = sent_back(authorize(http, valid_request(service, claims=claims)), service)
    assert params["error"] == "access_denied"
    assert CORE in params["error_description"]


def test_a_parameter_given_twice_is_refused_at_the_trusted_redirect_uri(
    http: TestClient, service: Service
) -> None:
    # RFC 6749 §3.1: request parameters must not be included more than once.
    params = [*valid_request(service).items(), ("state", "other")]
    back = sent_back(authorize(http, params), service)
    assert back["error"] == "invalid_request"
    assert back["error_description"] == "given more than once: state"


def test_without_a_state_the_error_carries_the_issuer_only(http: TestClient, service: Service) -> None:
    params = sent_back(authorize(http, valid_request(service, state=None, scope="email")), service)
    assert params["error"] == "invalid_scope" and params["iss"] == ISSUER
    assert "state" not in params


def test_an_error_description_never_carries_characters_rfc_6749_forbids(
    http: TestClient, service: Service
) -> None:
    # RFC 6749 §4.1.2.1: error_description is %x20-21 / %x23-5B / %x5D-7E; this one quotes the scope.
    params = sent_back(authorize(http, valid_request(service, scope='openid "x\\y é')), service)
    assert params["error"] == "invalid_scope"
    assert params["error_description"] == "scope not allowed for this service: ?x?y ?"


@pytest.mark.parametrize(
    "changes",
    [
        {"client_id": "no-such-service"},
        {"redirect_uri": "https://attacker.example/callback"},
        {"redirect_uri": REDIRECT + "/extra"},  # exact match only (RFC 9700 §2.1)
    ],
)
def test_nothing_is_sent_to_a_redirect_uri_that_is_not_trusted(
    http: TestClient, service: Service, changes: dict[str, str]
) -> None:
    # RFC 6749 §4.1.2.1: with an unknown client or an unregistered redirect URI, the person is told
    # and the browser is not redirected anywhere.
    response = authorize(http, valid_request(service, **changes))
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "location" not in response.headers  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["client_id", "redirect_uri"])
def test_a_client_id_or_redirect_uri_given_twice_is_never_redirected(
    http: TestClient, service: Service, name: str
) -> None:
    # RFC 6749 §3.1: with either repeated, no redirect URI can be trusted.
    params = [*valid_request(service).items(), (name, valid_request(service)[name])]
    response = authorize(http, params)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "location" not in response.headers  # type: ignore[attr-defined]
