"""``id_token_hint`` at the authorization endpoint (OIDC Core §3.1.2.1), ``acr`` in the ID token, and
discovery's ``claims_supported`` against the claims a full flow actually issues."""

from __future__ import annotations

import base64
import json
import uuid
from contextlib import closing
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from broker.policy.claims import CORE_IDENTITY, VERIFIED_CLAIMS, VOCAB
from tests.e2e.agent import Callback, UserAgent
from tests.e2e.identity import KnownPerson
from tests.e2e.rp import claims_param
from tests.e2e.test_identity import prove_with_passport, resume, sign_in_to_proving

SQLITE_ONLY = pytest.mark.parametrize("broker", ["sqlite"], indirect=True)  # storage plays no part


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _silently(agent, rp, hint: str, prompt: str | None = "none") -> dict[str, str]:
    """A request with the hint, as a service checks who is signed in; the parameters it gets back."""
    location = agent.go(rp.authorization_url(id_token_hint=hint, **({"prompt": prompt} if prompt else {})))
    assert location.startswith(rp.redirect_uri), f"expected a redirect to the client, got {location}"
    params = Callback(location).params
    assert params["iss"] == rp.issuer
    return params


def _signed_in_token(agent, rp, email: str) -> dict:
    return rp.redeem(agent.authorize(rp.authorization_url(), email=email))


def test_a_hint_about_the_person_signed_in_gets_a_code_without_a_page(make_rp, person, agent):
    rp = make_rp()
    token = _signed_in_token(agent, rp, person)
    assert token["id_claims"]["sub"].startswith("urn:fdc:")  # pairwise, as this service knows them
    again = rp.redeem(
        Callback(agent.go(rp.authorization_url(id_token_hint=token["id_token"], prompt="none")))
    )
    assert again["id_claims"]["sub"] == token["id_claims"]["sub"]


def test_a_hint_about_someone_else_with_prompt_none_is_login_required(broker, make_rp, person, agent):
    rp = make_rp()
    _signed_in_token(agent, rp, person)
    other = f"other-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(other)
    with closing(UserAgent(broker)) as elsewhere:
        others_token = _signed_in_token(elsewhere, rp, other)
    params = _silently(agent, rp, others_token["id_token"])
    assert params["error"] == "login_required" and "code" not in params


def test_a_hint_about_someone_else_without_prompt_none_asks_to_sign_in(broker, make_rp, person, agent):
    rp = make_rp()
    _signed_in_token(agent, rp, person)
    other = f"other-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(other)
    with closing(UserAgent(broker)) as elsewhere:
        others_token = _signed_in_token(elsewhere, rp, other)
    here = agent.go(rp.authorization_url(id_token_hint=others_token["id_token"]))
    assert urlsplit(here).path.startswith("/sign-in/"), here
    # Signing in as the person the hint names answers the service with that person.
    callback = agent.authorize(here, email=other)
    assert rp.redeem(callback)["id_claims"]["sub"] == others_token["id_claims"]["sub"]


@SQLITE_ONLY
def test_an_expired_hint_is_accepted(clock, make_rp, person, agent):
    rp = make_rp()
    token = _signed_in_token(agent, rp, person)
    clock.travel(timedelta(seconds=clock.settings.id_token_ttl + 120))  # expired; the session lives on
    assert "code" in _silently(agent, rp, token["id_token"])


@SQLITE_ONLY
def test_a_hint_that_is_not_an_id_token_of_this_broker_for_this_service_is_invalid_request(
    broker, make_rp, person, agent
):
    rp = make_rp()
    token = _signed_in_token(agent, rp, person)
    claims = {k: v for k, v in token["id_claims"].items() if not k.startswith("_")}
    header, payload, signature = token["id_token"].split(".")
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    another = make_rp()
    others = _signed_in_token(agent, another, person)
    sign = broker.services.signer.sign
    hints = {
        "bad signature": f"{header}.{payload}.{flipped}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': token['id_claims']['_header']['kid']})}"
        f".{payload}.",
        "another issuer": sign({**claims, "iss": "https://idp.example"}),
        "an access token": token["access_token"],
        "not a JWT": "not-a-token",
        "another service's ID token": others["id_token"],
        "for no registered service": sign({**claims, "aud": "no-such-client"}),
    }
    for name, hint in hints.items():
        for prompt in ("none", None):
            params = _silently(agent, rp, hint, prompt)
            assert params["error"] == "invalid_request", (name, prompt, params)
            assert "id_token_hint" in params["error_description"]
    assert "code" in _silently(agent, rp, token["id_token"])  # the genuine one still works


def test_the_id_token_carries_acr_beside_vot(broker, make_rp, person, agent):
    rp = make_rp()
    claims = _signed_in_token(agent, rp, person)["id_claims"]
    assert claims["acr"] == claims["vot"] == "Cl.Cm"
    with closing(UserAgent(broker)) as password_only:
        callback = password_only.authorize(rp.authorization_url(vtr='["Cl"]'), email=person)
    claims = rp.redeem(callback)["id_claims"]
    assert claims["acr"] == claims["vot"] == "Cl"


IDENTITY = [CORE_IDENTITY, VOCAB + "address", VOCAB + "passport", VERIFIED_CLAIMS]


@SQLITE_ONLY
def test_claims_supported_lists_every_claim_a_full_flow_issues(broker, make_rp, person, agent):
    rp = make_rp(claims=["email", "phone_number", *IDENTITY])
    known = KnownPerson().register(broker)
    everything = {name: None for name in ["email", "email_verified", *IDENTITY]}
    url = rp.authorization_url(
        scope="openid email phone offline_access",
        vtr='["Cl.Cm.P2"]',
        claims=claims_param(userinfo=everything, id_token=everything),
    )
    token = rp.redeem(
        resume(agent, prove_with_passport(agent, sign_in_to_proving(agent, url, person), known))
    )
    id_claims = {k for k in token["id_claims"] if not k.startswith("_")}
    userinfo = set(rp.userinfo(token["access_token"]).json())
    issued = id_claims | userinfo
    assert {"acr", "vot", "sid", "nonce", "at_hash", CORE_IDENTITY, VERIFIED_CLAIMS} <= issued
    assert {"email", CORE_IDENTITY} <= id_claims  # the identity went to the ID token too
    assert sorted(issued - set(rp.metadata["claims_supported"])) == []
