"""The authorization code flow end to end, as a relying service sees it (OIDC Core §3.1)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.agent import UserAgent
from tests.e2e.rp import RelyingParty, claims_param


def test_discovery_is_complete_and_truthful(broker, http):
    meta = http.get(f"{broker.url}/.well-known/openid-configuration").json()
    assert meta["issuer"] == broker.url
    for endpoint in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
    ):
        assert meta[endpoint].startswith(broker.url)
        assert http.get(meta[endpoint]).status_code != 404
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {"private_key_jwt", "client_secret_basic"}
    assert set(meta["id_token_signing_alg_values_supported"]) == {"ES256", "RS256"}
    assert set(meta["subject_types_supported"]) == {"pairwise", "public"}
    assert meta["ui_locales_supported"] == ["en", "cy"]
    assert "Cl.Cm" in meta["vtr_values_supported"] and "Cl.Cm.P2" in meta["vtr_values_supported"]
    assert meta["claims_parameter_supported"] is True
    assert meta["backchannel_logout_supported"] is True
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["verified_claims_supported"] is True and meta["trust_frameworks_supported"] == ["uk_diatf"]
    assert "https://vocab.account.gov.uk/v1/coreIdentityJWT" in meta["claims_supported"]
    assert meta["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert set(meta["scopes_supported"]) == {"openid", "email", "phone", "offline_access"}


SQLITE_ONLY = pytest.mark.parametrize("broker", ["sqlite"], indirect=True)  # storage plays no part


@SQLITE_ONLY
def test_every_document_discovery_names_is_served(broker, http):
    """Endpoints need a request to answer 200; every other URL in the metadata is a document."""
    meta = http.get(f"{broker.url}/.well-known/openid-configuration").json()
    documents = {
        name: value
        for name, value in meta.items()
        if isinstance(value, str) and value.startswith("http") and not name.endswith("_endpoint")
    }
    documents.pop("issuer")  # an identifier, not a document (OIDC Discovery §3)
    assert {"jwks_uri", "service_documentation", "trustmarks"} <= set(documents)
    for name, url in documents.items():
        assert http.get(url).status_code == 200, name
    guide = http.get(meta["service_documentation"])
    assert guide.headers["content-type"].startswith("text/markdown")
    assert "# Integrating a relying service" in guide.text


@SQLITE_ONLY
def test_trust_mark_names_the_levels_the_broker_asserts(make_rp, person, agent, http):
    rp = make_rp()
    vtm = rp.redeem(agent.authorize(rp.authorization_url(), email=person))["id_claims"]["vtm"]
    assert vtm == rp.metadata["trustmarks"]
    assert http.get(vtm).json() == {
        "idp": rp.issuer,
        "trustmark_provider": rp.issuer,
        "C": ["Cl", "Cl.Cm"],
        "P": ["P0", "P1", "P2", "P3"],
    }


def test_sign_in_with_two_factors_and_client_secret_basic(make_rp, person, agent):
    rp = make_rp()
    callback = agent.authorize(rp.authorization_url(state="s-123"), email=person)
    assert callback.params["state"] == "s-123"
    token = rp.redeem(callback)
    claims = token["id_claims"]
    assert claims["vot"] == "Cl.Cm"
    assert claims["amr"] == ["pwd", "otp"]
    assert claims["sid"] and claims["auth_time"] and claims["at_hash"]
    assert claims["sub"].startswith("urn:fdc:broker:2026:")
    assert claims["vtm"]
    assert claims["_header"]["alg"] == "ES256"
    assert token["expires_in"] <= 300 and "refresh_token" not in token
    info = rp.userinfo(token["access_token"])
    assert info.status_code == 200
    assert info.json() == {"sub": claims["sub"], "email": person, "email_verified": True}


def test_private_key_jwt_client_and_rs256_id_tokens(make_rp, person, agent):
    rp = make_rp("private_key_jwt", id_token_alg="RS256")
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    assert token["id_claims"]["_header"]["alg"] == "RS256"
    assert rp.userinfo(token["access_token"]).json()["email"] == person


def test_vtr_cl_is_password_only(make_rp, person, agent):
    rp = make_rp()
    token = rp.redeem(agent.authorize(rp.authorization_url(vtr='["Cl"]'), email=person))
    assert token["id_claims"]["vot"] == "Cl"
    assert token["id_claims"]["amr"] == ["pwd"]


def test_single_sign_on_across_services_without_typing_a_password(make_rp, person, agent):
    first, second = make_rp(host="localhost"), make_rp(host="127.0.0.1")
    sub_first = first.redeem(agent.authorize(first.authorization_url(), email=person))["id_claims"]["sub"]
    # No email or password given: any sign-in page would fail the journey.
    callback = agent.authorize(second.authorization_url())
    claims = second.redeem(callback)["id_claims"]
    assert claims["sub"] != sub_first  # pairwise: different sectors, different subjects
    # Consent is remembered: prompt=none now answers silently.
    silent = agent.authorize(second.authorization_url(prompt="none"))
    again = second.redeem(silent)["id_claims"]
    assert again["sub"] == claims["sub"] and again["sid"] == claims["sid"]


@SQLITE_ONLY
def test_login_hint_fills_in_the_sign_in_email(make_rp, person, agent):
    rp = make_rp()
    page = agent.go(rp.authorization_url(login_hint=person))
    assert "/sign-in/" in page
    email_input = re.search(r'<input[^>]*name="email"[^>]*>', agent.last_page)
    assert email_input and f'value="{person}"' in email_input.group(0)
    # A hint is text, never markup.
    agent.go(rp.authorization_url(login_hint='"><script>alert(1)</script>'))
    assert "<script>alert(1)" not in agent.last_page
    assert 'value="&#34;&gt;&lt;script&gt;' in agent.last_page or "&quot;&gt;&lt;script" in agent.last_page


def test_pairwise_subject_is_stable_within_a_sector(broker, make_rp, person, agent):
    def in_sector(host: str) -> RelyingParty:
        redirect = f"https://{host}/callback"
        info = broker.create_client(redirect_uris=[redirect], sector_identifier="services.example")
        return RelyingParty(
            broker.url, str(info["client_id"]), redirect, client_secret=str(info["client_secret"])
        )

    a, b = in_sector("a.services.example"), in_sector("b.services.example")
    sub_a = a.redeem(agent.authorize(a.authorization_url(), email=person))["id_claims"]["sub"]
    sub_b = b.redeem(agent.authorize(b.authorization_url()))["id_claims"]["sub"]
    assert sub_a == sub_b


def test_openid_only_needs_no_consent_page(make_rp, person, agent):
    rp = make_rp()
    agent.authorize(make_rp().authorization_url(), email=person)  # signs in
    start = agent.go(rp.authorization_url(scope="openid"))
    assert not start.startswith(agent.broker.url)  # straight back with a code


def test_claims_parameter_puts_email_in_the_id_token(make_rp, person, agent):
    rp = make_rp()
    url = rp.authorization_url(scope="openid", claims=claims_param(id_token={"email": {"essential": True}}))
    claims = rp.redeem(agent.authorize(url, email=person))["id_claims"]
    assert claims["email"] == person


def test_claim_the_service_may_not_receive_is_refused_at_authorize(make_rp, person, agent):
    rp = make_rp(claims=["email"])  # its MOU covers the email address only
    by_scope = agent.authorize(rp.authorization_url(scope="openid phone"), email=person)
    assert (
        by_scope.params["error"] == "invalid_scope" and "phone_number" in by_scope.params["error_description"]
    )
    assert by_scope.params["iss"] == rp.issuer
    by_claims = agent.authorize(rp.authorization_url(claims=claims_param(userinfo={"phone_number": None})))
    assert by_claims.params["error"] == "access_denied"
    assert "does not cover" in by_claims.params["error_description"]


def test_cancel_on_consent_returns_access_denied(make_rp, person, agent):
    rp = make_rp()
    callback = agent.authorize(rp.authorization_url(state="xyz"), email=person, agree=False)
    assert callback.params["error"] == "access_denied"
    assert callback.params["state"] == "xyz"


def test_prompt_login_and_max_age_force_a_new_sign_in(broker, make_rp, person, agent):
    rp = make_rp()
    first = rp.redeem(agent.authorize(rp.authorization_url(), email=person))["id_claims"]
    for params in ({"prompt": "login"}, {"max_age": "0"}):
        page = agent.go(rp.authorization_url(**params))
        assert "/sign-in/" in page
        again = rp.redeem(agent.authorize(page, email=person))["id_claims"]
        assert again["auth_time"] >= first["auth_time"]
        assert again["sid"] != first["sid"]  # session rotated at sign-in
    # A generous max_age does not ask again.
    assert not agent.go(rp.authorization_url(max_age="10000")).startswith(broker.url)


def test_post_to_the_authorization_endpoint_works(broker, make_rp, person, agent):
    rp = make_rp()
    agent.authorize(rp.authorization_url(), email=person)
    url = rp.authorization_url()
    base, _, query = url.partition("?")
    from urllib.parse import parse_qsl

    response = agent.http.post(base, data=dict(parse_qsl(query)))
    assert response.status_code in (302, 303)
    from tests.e2e.agent import Callback

    assert rp.redeem(Callback(response.headers["location"]))["id_claims"]["vot"] == "Cl.Cm"


def test_unknown_parameters_are_ignored(make_rp, person, agent):
    rp = make_rp()
    token = rp.redeem(agent.authorize(rp.authorization_url(extra_thing="1", ui_locales="cy"), email=person))
    assert token["id_claims"]["vot"] == "Cl.Cm"


def test_two_browsers_have_independent_sessions(broker, make_rp, person):
    rp = make_rp()
    one, two = UserAgent(broker), UserAgent(broker)
    try:
        one.authorize(rp.authorization_url(), email=person)
        assert "/sign-in/" in two.go(rp.authorization_url())
    finally:
        one.close()
        two.close()
