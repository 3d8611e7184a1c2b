"""RP-initiated logout (OIDC RP-Initiated Logout 1.0), one rule per test, through /logout on an in-process
broker: which hints are trusted, where the browser may be sent back, and when the person is asked first."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from broker.accounts.sessions import SessionService, session_cookie
from broker.deps import utc_now
from broker.oidc.clients import NewClient, register_client
from broker.oidc.repository import OidcRepository
from broker.oidc.tokens import ACCESS_TOKEN_TYP, ID_TOKEN_TYP
from broker.store.db import transaction
from tests.oidc.inprocess import ISSUER, make_app, sign_in

BACK = "https://service.example/signed-out"


@dataclass
class Service:
    client_id: str


@dataclass
class Signed:
    """A browser session of a person, and the cookie that holds it."""

    session_id: str
    cookie: str


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return make_app(tmp_path_factory.mktemp("logout"))


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as client:
        yield client


def register(app: FastAPI, name: str) -> Service:
    with transaction(app.state.services.session_factory) as db:
        client, _ = register_client(
            db,
            NewClient(
                name=name,
                redirect_uris=["https://service.example/callback"],
                post_logout_redirect_uris=[BACK],
                claims=["email"],
            ),
            utc_now(),
            operator_approves=True,
        )
        return Service(client.client_id)


@pytest.fixture(scope="module")
def service(app: FastAPI) -> Service:
    return register(app, "Licences")


@pytest.fixture(scope="module")
def other_service(app: FastAPI) -> Service:
    return register(app, "Parking")


@pytest.fixture
def signed_in(app: FastAPI, http: TestClient, service: Service) -> Signed:
    """A person signed in on this browser, whose session the service took part in as ``sub-at-service``."""
    session_id = sign_in(app, http)
    with transaction(app.state.services.session_factory) as db:
        OidcRepository(db).record_participation(session_id, service.client_id, "sub-at-service", utc_now())
    return Signed(session_id, str(http.cookies.get(session_cookie(app.state.services.settings))))


def id_token(app: FastAPI, aud: Any, typ: str = ID_TOKEN_TYP, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": aud, "sub": "sub-at-service", "iat": now, "exp": now + 300, **claims}
    return str(app.state.services.signer.sign(body, alg="ES256", typ=typ))


def session_live(app: FastAPI, signed: Signed) -> bool:
    services = app.state.services
    with services.session_factory() as db:
        return SessionService(db, services.settings).find(signed.cookie, utc_now()) is not None


def asked_to_confirm(response: Response) -> bool:
    return response.status_code == 200 and "Do you want to sign out?" in response.text


def refused(response: Response) -> bool:
    return response.status_code == 400 and "location" not in response.headers


def test_without_a_hint_the_person_is_asked_to_confirm(
    app: FastAPI, http: TestClient, signed_in: Signed, service: Service
) -> None:
    # RP-Initiated Logout §6: a request anyone could send must not sign a person out by itself.
    response = http.get("/logout", params={"client_id": service.client_id, "post_logout_redirect_uri": BACK})
    assert asked_to_confirm(response)
    assert response.headers["cache-control"] == "no-store"
    assert session_live(app, signed_in)


def test_a_hint_naming_this_session_signs_out_at_once_and_returns_with_state(
    app: FastAPI, http: TestClient, signed_in: Signed, service: Service
) -> None:
    hint = id_token(app, service.client_id, sid=signed_in.session_id)
    response = http.get(
        "/logout", params={"id_token_hint": hint, "post_logout_redirect_uri": BACK, "state": "s-1"}
    )
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == BACK
    assert parse_qs(location.query) == {"state": ["s-1"]}
    assert not session_live(app, signed_in)


def test_a_hint_with_the_sub_the_service_knows_in_this_session_signs_out_at_once(
    app: FastAPI, http: TestClient, signed_in: Signed, service: Service
) -> None:
    response = http.post("/logout", data={"id_token_hint": id_token(app, service.client_id)})
    assert response.status_code == 200 and "You have signed out" in response.text
    assert not session_live(app, signed_in)


@pytest.mark.parametrize(
    "claims", [{"sid": "another-session", "sub": "someone-else"}, {"sub": "someone-else"}]
)
def test_a_hint_about_another_session_or_person_asks_first(
    app: FastAPI, http: TestClient, signed_in: Signed, service: Service, claims: dict[str, str]
) -> None:
    # RP-Initiated Logout §2: an ID token about someone else must not sign this browser out.
    response = http.get("/logout", params={"id_token_hint": id_token(app, service.client_id, **claims)})
    assert asked_to_confirm(response)
    assert session_live(app, signed_in)


def test_a_hint_from_a_service_not_in_this_session_asks_first(
    app: FastAPI, http: TestClient, signed_in: Signed, other_service: Service
) -> None:
    response = http.get("/logout", params={"id_token_hint": id_token(app, other_service.client_id)})
    assert asked_to_confirm(response)
    assert session_live(app, signed_in)


def test_an_expired_id_token_is_still_a_hint(app: FastAPI, http: TestClient, service: Service) -> None:
    # RP-Initiated Logout §2: the OP should accept an expired ID token as a hint (its signature checked).
    past = int(time.time()) - int(timedelta(days=2).total_seconds())
    hint = id_token(app, service.client_id, iat=past, exp=past + 300)
    response = http.get("/logout", params={"id_token_hint": hint, "post_logout_redirect_uri": BACK})
    assert response.status_code == 303 and response.headers["location"] == BACK


@pytest.mark.parametrize(
    "hint",
    [
        pytest.param(lambda app, client_id: "not.a.token", id="not a token"),
        pytest.param(
            lambda app, client_id: id_token(app, client_id, typ=ACCESS_TOKEN_TYP), id="access token"
        ),
        pytest.param(
            lambda app, client_id: id_token(app, client_id, iss="https://other.example"), id="issuer"
        ),
        pytest.param(lambda app, client_id: id_token(app, "no-such-service"), id="unknown service"),
        pytest.param(lambda app, client_id: id_token(app, [client_id, "another"]), id="two audiences"),
    ],
)
def test_a_hint_the_broker_cannot_check_is_refused(
    app: FastAPI, http: TestClient, service: Service, hint: Any
) -> None:
    response = http.get(
        "/logout", params={"id_token_hint": hint(app, service.client_id), "post_logout_redirect_uri": BACK}
    )
    assert refused(response)
    assert "could not check" in response.text


def test_a_client_id_that_differs_from_the_hints_audience_is_refused(
    app: FastAPI, http: TestClient, service: Service, other_service: Service
) -> None:
    params = {"id_token_hint": id_token(app, service.client_id), "client_id": other_service.client_id}
    response = http.get("/logout", params=params)
    assert refused(response)
    assert "two different services" in response.text


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"post_logout_redirect_uri": BACK}, id="no service named"),
        pytest.param({"post_logout_redirect_uri": "https://attacker.example/"}, id="not registered"),
        pytest.param({"post_logout_redirect_uri": BACK + "/more"}, id="not an exact match"),
    ],
)
def test_a_return_address_not_registered_for_the_named_service_is_refused(
    http: TestClient, service: Service, params: dict[str, str]
) -> None:
    if params["post_logout_redirect_uri"] != BACK:
        params = {**params, "client_id": service.client_id}
    response = http.get("/logout", params=params)
    assert refused(response)
    assert "address we do not trust" in response.text
