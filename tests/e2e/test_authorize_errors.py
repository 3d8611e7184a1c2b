"""Malformed authorization requests (RFC 6749 §4.1.2.1): redirected only to a trusted redirect URI."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.e2e.agent import Callback

SQLITE_ONLY = pytest.mark.parametrize("broker", ["sqlite"], indirect=True)  # storage plays no part


def _url(rp, **overrides):
    params = {
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


def _error_at_client(agent, rp, **overrides) -> dict[str, str]:
    location = agent.go(_url(rp, **overrides))
    assert location.startswith(rp.redirect_uri), f"expected a redirect to the client, got {location}"
    params = Callback(location).params
    assert params["iss"] == rp.issuer and params.get("state") == "st"
    return params


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),  # missing, not unsupported (RFC 6749 §4.1.2.1)
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"scope": "email"}, "invalid_scope"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"vtr": '["Cl.P2"]'}, "invalid_request"),
        ({"vtr": "Cl.Cm"}, "invalid_request"),
        ({"vtr": '["Cl.Cm.Px"]'}, "invalid_request"),
        ({"claims": "{not json"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
    ],
)
def test_bad_request_is_redirected_with_the_right_error(make_rp, agent, overrides, error):
    assert _error_at_client(agent, make_rp(), **overrides)["error"] == error


def test_prompt_none_without_a_session_answers_login_required(make_rp, agent):
    assert _error_at_client(agent, make_rp(), prompt="none")["error"] == "login_required"


def test_prompt_none_before_consent_answers_consent_required(make_rp, person, agent):
    agent.authorize(make_rp().authorization_url(), email=person)
    assert _error_at_client(agent, make_rp(), prompt="none")["error"] == "consent_required"


def test_identity_level_the_person_does_not_have_with_prompt_none_is_interaction_required(
    make_rp, person, agent
):
    rp = make_rp()
    agent.authorize(rp.authorization_url(), email=person)
    # Signed in and consented, but proving an identity is a page prompt=none may not show.
    assert _error_at_client(agent, rp, vtr='["Cl.Cm.P2"]', prompt="none")["error"] == "interaction_required"


def test_second_factor_step_up_with_prompt_none_is_interaction_required(make_rp, person, agent):
    rp = make_rp()
    agent.authorize(rp.authorization_url(vtr='["Cl"]'), email=person)  # a password only
    assert "code" in _error_at_client(agent, rp, vtr='["Cl"]', prompt="none")  # what the session has
    assert _error_at_client(agent, rp, prompt="none")["error"] == "interaction_required"  # Cl.Cm asked


@pytest.mark.parametrize(
    "repeated", ["state", "scope", "nonce", "response_type", "code_challenge", "code_challenge_method"]
)
def test_a_parameter_given_twice_is_invalid_request_at_the_client(make_rp, agent, repeated):
    """RFC 6749 §3.1: parameters must not be included more than once."""
    rp = make_rp()
    url = (
        _url(rp)
        + "&"
        + urlencode({repeated: {"state": "st", "code_challenge_method": "S256"}.get(repeated, "again")})
    )
    location = agent.go(url)
    assert location.startswith(rp.redirect_uri), location
    params = Callback(location).params
    assert params["error"] == "invalid_request" and repeated in params["error_description"]
    assert params["iss"] == rp.issuer and params["state"] == "st"


@SQLITE_ONLY
@pytest.mark.parametrize("repeated", ["client_id", "redirect_uri"])
def test_client_or_redirect_uri_given_twice_gets_an_error_page(make_rp, agent, repeated):
    rp = make_rp()
    location = agent.go(_url(rp) + "&" + urlencode({repeated: getattr(rp, repeated)}))
    assert location.startswith(rp.issuer) and agent.last_status == 400


def test_identity_level_the_person_does_not_have_leads_to_proving_it(make_rp, person, agent, broker):
    rp = make_rp()
    agent.authorize(rp.authorization_url(), email=person)
    location = agent.go(_url(rp, vtr='["Cl.Cm.P2"]'))
    assert location.startswith(f"{broker.url}/identity/"), location


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "no-such-client"},
        {"client_id": None},
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": None},
        {"response_type": "token", "redirect_uri": "https://evil.example/callback"},
    ],
)
def test_untrusted_client_or_redirect_gets_an_error_page_never_a_redirect(make_rp, agent, overrides):
    rp = make_rp()
    if overrides.get("redirect_uri") == "https://evil.example/callback":
        pass
    location = agent.go(_url(rp, **overrides))
    assert location.startswith(rp.issuer)
    assert agent.last_status == 400
    assert "evil.example" not in agent.last_page or "<a" not in agent.last_page.split("evil.example")[0][-20:]


def test_redirect_uri_must_match_exactly(make_rp, agent):
    rp = make_rp()
    for near_miss in (rp.redirect_uri + "/", rp.redirect_uri + "?x=1", rp.redirect_uri.upper()):
        location = agent.go(_url(rp, redirect_uri=near_miss))
        assert location.startswith(rp.issuer) and agent.last_status == 400


def test_descriptions_never_carry_forbidden_characters(make_rp, agent):
    rp = make_rp()
    params = _error_at_client(agent, rp, scope='openid caf\u00e9"\\\\')
    assert params["error"] == "invalid_scope"
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\\\' for c in params["error_description"])
    # Authlib quoting a non-ASCII response_type: an error page, not a 500.
    location = agent.go(_url(rp, response_type="\u00ce"))
    assert location.startswith(rp.issuer) and agent.last_status in (302, 400)
