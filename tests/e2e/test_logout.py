"""RP-initiated logout and back-channel logout (OIDC RP-Initiated Logout 1.0, Back-Channel Logout 1.0)."""

from __future__ import annotations

import uuid
from contextlib import closing
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jws import JWSRegistry

from tests.e2e.agent import Callback, UserAgent

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def _logout_url(rp, **params) -> str:
    return rp.metadata["end_session_endpoint"] + "?" + urlencode(params)


def test_logout_with_hint_redirects_and_notifies_every_service_in_the_session(
    broker, make_rp, person, agent, receiver
):
    back = "http://localhost:9100/signed-out"
    a = make_rp(post_logout_redirect_uris=[back], backchannel_logout_uri=receiver.endpoint)
    b = make_rp(host="127.0.0.1", backchannel_logout_uri=receiver.endpoint, id_token_alg="RS256")
    token_a = a.redeem(agent.authorize(a.authorization_url(), email=person))
    token_b = b.redeem(agent.authorize(b.authorization_url()))
    before = len(receiver.tokens)

    location = agent.go(
        _logout_url(a, id_token_hint=token_a["id_token"], post_logout_redirect_uri=back, state="bye")
    )
    assert location.startswith(back) and Callback(location).params == {"state": "bye"}

    tokens = receiver.wait_for(before + 2)[before:]
    assert len(tokens) == 2
    by_aud = {}
    for raw in tokens:
        decoded = jwt.decode(raw, a.jwks(), registry=JWSRegistry(algorithms=["ES256", "RS256"]))
        assert decoded.header["typ"] == "logout+jwt"
        claims = decoded.claims
        assert claims["iss"] == broker.url and EVENT in claims["events"] and "nonce" not in claims
        by_aud[claims["aud"]] = (decoded.header["alg"], claims)
    assert by_aud[a.client_id][1]["sid"] == token_a["id_claims"]["sid"]
    assert by_aud[a.client_id][1]["sub"] == token_a["id_claims"]["sub"]
    assert by_aud[b.client_id][0] == "RS256"  # signed with the algorithm that client chose
    assert by_aud[b.client_id][1]["sub"] == token_b["id_claims"]["sub"]
    # Signed out: the next authorization asks to sign in again, and session tokens are revoked.
    assert "/sign-in/" in agent.go(a.authorization_url())
    assert a.userinfo(token_a["access_token"]).status_code == 401


def test_backchannel_notice_is_retried_when_the_service_is_down(broker, make_rp, person, agent, receiver):
    rp = make_rp(backchannel_logout_uri=receiver.endpoint)
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    before = len(receiver.tokens)
    receiver.fail_next = 1
    agent.go(_logout_url(rp, id_token_hint=token["id_token"]))
    assert "signed out" in agent.last_page
    delivered = receiver.wait_for(before + 1, timeout=30)
    assert len(delivered) == before + 1


def test_tampered_hint_is_refused_without_redirect(make_rp, person, agent):
    back = "http://localhost:9100/signed-out"
    rp = make_rp(post_logout_redirect_uris=[back])
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    head, body, sig = token["id_token"].split(".")
    tampered = f"{head}.{body[:-3]}xyz.{sig}"
    location = agent.go(_logout_url(rp, id_token_hint=tampered, post_logout_redirect_uri=back))
    assert location.startswith(rp.issuer) and agent.last_status == 400
    # Still signed in.
    assert not agent.go(rp.authorization_url()).startswith(rp.issuer)


def test_unregistered_post_logout_uri_is_refused(make_rp, person, agent):
    rp = make_rp(post_logout_redirect_uris=["http://localhost:9100/signed-out"])
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    location = agent.go(
        _logout_url(rp, id_token_hint=token["id_token"], post_logout_redirect_uri="https://evil.example/")
    )
    assert location.startswith(rp.issuer) and agent.last_status == 400


def test_logout_without_hint_asks_to_confirm(make_rp, person, agent):
    rp = make_rp()
    agent.authorize(rp.authorization_url(), email=person)
    agent.go(_logout_url(rp))
    assert "Do you want to sign out?" in agent.last_page
    # A forged confirmation (no CSRF token) does nothing.
    for forged in ({}, {"csrf_token": "0" * 64}):
        assert agent.http.post(f"{rp.issuer}/logout/confirm", data=forged).status_code == 400
    assert not agent.go(rp.authorization_url()).startswith(rp.issuer)
    agent.submit(f"{rp.issuer}/logout/confirm", {})
    assert "You have signed out" in agent.last_page
    assert "/sign-in/" in agent.go(rp.authorization_url())


# RP-Initiated Logout §2 and §6: the hint proves which service asks, not that this browser's person
# wants to sign out. Storage plays no part in these rules, so they run on SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("broker", ["sqlite"], indirect=True)
BACK = "http://localhost:9100/signed-out"


def _signed_in(agent, rp) -> bool:
    return not agent.go(rp.authorization_url()).startswith(rp.issuer)


@SQLITE_ONLY
def test_attackers_own_id_token_does_not_sign_someone_else_out(broker, make_rp, person, agent):
    rp = make_rp(post_logout_redirect_uris=[BACK])
    rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    attacker_email = f"attacker-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(attacker_email)
    with closing(UserAgent(broker)) as attacker:
        attackers_token = rp.redeem(attacker.authorize(rp.authorization_url(), email=attacker_email))

    # The victim follows the attacker's link: a valid ID token, but about another person and session.
    location = agent.go(
        _logout_url(rp, id_token_hint=attackers_token["id_token"], post_logout_redirect_uri=BACK, state="x")
    )
    assert location.startswith(rp.issuer) and "Do you want to sign out?" in agent.last_page
    assert _signed_in(agent, rp)
    # Confirming is the person's own choice, and then the service's registered address is followed.
    confirmed = agent.post(
        f"{rp.issuer}/logout/confirm",
        {"client_id": rp.client_id, "post_logout_redirect_uri": BACK, "state": "x"},
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"] == f"{BACK}?state=x"
    assert not _signed_in(agent, rp)


@SQLITE_ONLY
def test_access_token_is_not_an_id_token_hint(make_rp, person, agent):
    rp = make_rp(post_logout_redirect_uris=[BACK])
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    # Signed by the broker, the person's own, but an access token (typ at+jwt, aud the broker).
    location = agent.go(_logout_url(rp, id_token_hint=token["access_token"], post_logout_redirect_uri=BACK))
    assert location.startswith(rp.issuer) and agent.last_status == 400
    assert _signed_in(agent, rp)


@SQLITE_ONLY
def test_expired_id_token_of_this_session_still_signs_out_at_once(clock, make_rp, person, agent):
    rp = make_rp(post_logout_redirect_uris=[BACK])
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    clock.travel(timedelta(seconds=clock.settings.id_token_ttl + 120))  # expired; the session lives on
    location = agent.go(_logout_url(rp, id_token_hint=token["id_token"], post_logout_redirect_uri=BACK))
    assert location == BACK
    assert not _signed_in(agent, rp)


@SQLITE_ONLY
def test_hint_from_an_earlier_session_of_the_same_person_signs_out_at_once(make_rp, person, agent):
    rp = make_rp(post_logout_redirect_uris=[BACK])
    earlier = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    agent.go(_logout_url(rp, id_token_hint=earlier["id_token"]))
    later = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    assert later["id_claims"]["sid"] != earlier["id_claims"]["sid"]
    # Another sid, but the subject this service knows in the current session: the same person.
    assert agent.go(_logout_url(rp, id_token_hint=earlier["id_token"], post_logout_redirect_uri=BACK)) == BACK
    assert not _signed_in(agent, rp)


@SQLITE_ONLY
def test_only_an_id_token_for_a_registered_client_is_a_hint(broker, make_rp, person, agent):
    rp = make_rp(post_logout_redirect_uris=[BACK])
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    claims = {k: v for k, v in token["id_claims"].items() if not k.startswith("_")}
    sign = broker.services.signer.sign
    for hint in (
        sign({**claims, "aud": "no-such-client"}),  # an ID token's shape, for no registered service
        sign(claims, typ="logout+jwt"),  # the broker's, about this session, but a logout token
    ):
        location = agent.go(_logout_url(rp, id_token_hint=hint, post_logout_redirect_uri=BACK))
        assert location.startswith(rp.issuer) and agent.last_status == 400
    assert _signed_in(agent, rp)
