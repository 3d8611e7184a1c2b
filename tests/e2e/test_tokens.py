"""The token endpoint: codes, PKCE, client authentication, refresh rotation (RFC 6749, 7636, 7523, 9700)."""

from __future__ import annotations

import time
import uuid

import pytest
from joserfc import jwt

from tests.e2e.agent import Callback
from tests.e2e.rp import RelyingParty, make_rp_key

SQLITE_ONLY = pytest.mark.parametrize("broker", ["sqlite"], indirect=True)  # storage plays no part


def _code(agent, rp, email, **params) -> tuple[Callback, dict[str, str]]:
    callback = agent.authorize(rp.authorization_url(**params), email=email)
    return callback, rp.pending[callback.params["state"]]


def test_code_is_single_use_and_reuse_revokes_what_it_issued(make_rp, person, agent):
    rp = make_rp()
    callback, pending = _code(agent, rp, person)
    token = rp.redeem(callback)
    assert rp.userinfo(token["access_token"]).status_code == 200
    again = rp.token_request(
        grant_type="authorization_code",
        code=callback.params["code"],
        redirect_uri=rp.redirect_uri,
        code_verifier=pending["verifier"],
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert rp.userinfo(token["access_token"]).status_code == 401


def test_code_reuse_also_revokes_the_refresh_token_it_issued(make_rp, person, agent):
    rp = make_rp()
    callback, pending = _code(agent, rp, person, scope="openid offline_access")
    token = rp.redeem(callback)
    again = rp.token_request(
        grant_type="authorization_code",
        code=callback.params["code"],
        redirect_uri=rp.redirect_uri,
        code_verifier=pending["verifier"],
    )
    assert again.json()["error"] == "invalid_grant"
    refreshed = rp.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


@SQLITE_ONLY
def test_access_token_is_an_rfc_9068_jwt(make_rp, person, agent):
    rp = make_rp()
    token = rp.redeem(agent.authorize(rp.authorization_url(scope="openid email"), email=person))
    decoded = jwt.decode(token["access_token"], rp.jwks(), algorithms=["ES256"])
    assert decoded.header["typ"] == "at+jwt"  # RFC 9068 §2.1
    claims = decoded.claims
    assert {"iss", "exp", "aud", "sub", "client_id", "iat", "jti", "scope"} <= set(claims)  # §2.2
    assert claims["iss"] == rp.issuer and claims["client_id"] == rp.client_id
    assert claims["sub"] == token["id_claims"]["sub"] and claims["scope"] == "openid email"
    assert 0 < claims["exp"] - claims["iat"] <= token["expires_in"]
    assert claims["aud"] == rp.issuer  # the broker's own UserInfo is the resource


def test_wrong_redirect_uri_at_the_token_endpoint(make_rp, person, agent):
    rp = make_rp()
    callback, pending = _code(agent, rp, person)
    response = rp.token_request(
        grant_type="authorization_code",
        code=callback.params["code"],
        redirect_uri=rp.redirect_uri + "x",
        code_verifier=pending["verifier"],
    )
    assert response.json()["error"] == "invalid_grant"


def test_missing_or_wrong_pkce_verifier(make_rp, person, agent):
    rp = make_rp()
    for verifier, error in ((None, "invalid_request"), ("x" * 43 + "wrongwrong", "invalid_grant")):
        callback, _ = _code(agent, rp, person)
        data = {
            "grant_type": "authorization_code",
            "code": callback.params["code"],
            "redirect_uri": rp.redirect_uri,
        }
        if verifier:
            data["code_verifier"] = verifier
        assert rp.token_request(**data).json()["error"] == error


def test_code_of_another_client_is_refused_and_stays_usable_by_its_owner(make_rp, person, agent):
    rp, other = make_rp(), make_rp()
    callback, pending = _code(agent, rp, person)
    response = other.token_request(
        grant_type="authorization_code",
        code=callback.params["code"],
        redirect_uri=rp.redirect_uri,
        code_verifier=pending["verifier"],
    )
    assert response.json()["error"] == "invalid_grant"
    # The wrong client neither spent the code nor made the owner's redemption look like reuse.
    token = rp.redeem(callback)
    assert rp.userinfo(token["access_token"]).status_code == 200


def test_wrong_client_secret_is_invalid_client(make_rp, person, agent):
    rp = make_rp()
    rp.client_secret = "not-the-secret"
    response = rp.token_request(grant_type="authorization_code", code="x", redirect_uri=rp.redirect_uri)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_unsupported_grant_type(make_rp):
    assert make_rp().token_request(grant_type="password").json()["error"] == "unsupported_grant_type"


def _assertion(rp, **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": rp.client_id,
        "sub": rp.client_id,
        "aud": rp.metadata["token_endpoint"],
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return jwt.encode({"alg": "ES256", "kid": rp.private_key.kid}, claims, rp.private_key)


def _with_assertion(rp, person, agent, assertion):
    callback, pending = _code(agent, rp, person)
    import httpx

    return httpx.post(
        rp.metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": callback.params["code"],
            "redirect_uri": rp.redirect_uri,
            "code_verifier": pending["verifier"],
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )


def test_private_key_jwt_assertion_rules(make_rp, person, agent):
    rp = make_rp("private_key_jwt")
    now = int(time.time())
    assert _with_assertion(rp, person, agent, _assertion(rp)).status_code == 200
    bad = {
        "expired": _assertion(rp, iat=now - 600, exp=now - 300),
        "wrong audience": _assertion(rp, aud="https://elsewhere.example/token"),
        "lives too long": _assertion(rp, exp=now + 7200),
        "iss differs from sub": _assertion(rp, iss="someone-else"),
    }
    for reason, assertion in bad.items():
        response = _with_assertion(rp, person, agent, assertion)
        assert response.json()["error"] == "invalid_client", reason


def test_private_key_jwt_replayed_jti_is_refused(make_rp, person, agent):
    rp = make_rp("private_key_jwt")
    assertion = _assertion(rp)
    assert _with_assertion(rp, person, agent, assertion).status_code == 200
    assert _with_assertion(rp, person, agent, assertion).json()["error"] == "invalid_client"


def test_assertion_signed_by_another_key_is_refused(make_rp, person, agent):
    rp, other = make_rp("private_key_jwt"), make_rp("private_key_jwt")
    forged = jwt.encode(
        {"alg": "ES256"},
        {
            "iss": rp.client_id,
            "sub": rp.client_id,
            "aud": rp.metadata["token_endpoint"],
            "exp": int(time.time()) + 60,
            "jti": uuid.uuid4().hex,
        },
        other.private_key,
    )
    assert _with_assertion(rp, person, agent, forged).json()["error"] == "invalid_client"


@SQLITE_ONLY
def test_private_key_jwt_with_keys_fetched_from_the_clients_jwks_uri(broker, receiver, person, agent):
    key, jwks = make_rp_key()
    name = uuid.uuid4().hex
    receiver.key_sets[name] = jwks
    redirect_uri = f"http://localhost:9000/callback/{name[:8]}"
    info = broker.create_client(
        redirect_uris=[redirect_uri], auth_method="private_key_jwt", jwks_uri=f"{receiver.url}/jwks/{name}"
    )
    rp = RelyingParty(broker.url, str(info["client_id"]), redirect_uri, private_key=key)
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    assert rp.userinfo(token["access_token"]).json()["email"] == person
    # A key the client does not publish at its jwks_uri does not authenticate it.
    impostor, _ = make_rp_key()
    forged = RelyingParty(broker.url, rp.client_id, redirect_uri, private_key=impostor)
    assert _with_assertion(forged, person, agent, _assertion(forged)).json()["error"] == "invalid_client"


@SQLITE_ONLY
def test_a_client_whose_jwks_uri_fails_is_refused_and_not_fetched_again_at_once(
    broker, receiver, person, agent
):
    """A failed key fetch is the client's problem: invalid_client, not a 500; the broker does not ask
    again at once (each try would hold a protocol thread for the whole time-out)."""
    key, jwks = make_rp_key()
    name = uuid.uuid4().hex  # nothing published there yet: the receiver answers 404
    redirect_uri = f"http://localhost:9000/callback/{name[:8]}"
    info = broker.create_client(
        redirect_uris=[redirect_uri], auth_method="private_key_jwt", jwks_uri=f"{receiver.url}/jwks/{name}"
    )
    rp = RelyingParty(broker.url, str(info["client_id"]), redirect_uri, private_key=key)
    refused = _with_assertion(rp, person, agent, _assertion(rp))
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client"
    receiver.key_sets[name] = jwks  # published now, but the failure is remembered for a while
    again = _with_assertion(rp, person, agent, _assertion(rp))
    assert again.status_code == 400 and again.json()["error"] == "invalid_client"


def test_refresh_tokens_only_with_offline_access_and_they_rotate(make_rp, person, agent):
    rp = make_rp()
    assert "refresh_token" not in rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    token = rp.redeem(agent.authorize(rp.authorization_url(scope="openid email offline_access")))
    first = token["refresh_token"]
    refreshed = rp.token_request(grant_type="refresh_token", refresh_token=first)
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert body["refresh_token"] != first and body["access_token"] != token["access_token"]
    assert rp.userinfo(body["access_token"]).status_code == 200
    # Replaying the old one revokes the whole family, including the new token.
    replay = rp.token_request(grant_type="refresh_token", refresh_token=first)
    assert replay.json()["error"] == "invalid_grant"
    assert (
        rp.token_request(grant_type="refresh_token", refresh_token=body["refresh_token"]).json()["error"]
        == "invalid_grant"
    )
    assert rp.userinfo(body["access_token"]).status_code == 401


def test_refresh_token_is_bound_to_its_client(make_rp, person, agent):
    rp, other = make_rp(), make_rp()
    token = rp.redeem(agent.authorize(rp.authorization_url(scope="openid offline_access"), email=person))
    stolen = other.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert stolen.json()["error"] == "invalid_grant"
    # The rightful client's token still works: the thief did not consume it.
    assert (
        rp.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"]).status_code == 200
    )


def test_revocation_and_introspection(make_rp, person, agent):
    rp = make_rp()
    token = rp.redeem(agent.authorize(rp.authorization_url(scope="openid offline_access"), email=person))
    introspect, revoke = rp.metadata["introspection_endpoint"], rp.metadata["revocation_endpoint"]
    with rp.client() as client:
        info = client.introspect_token(introspect, token=token["access_token"]).json()
        assert info["active"] is True and info["client_id"] == rp.client_id
        assert info["sub"] == token["id_claims"]["sub"]
        assert client.revoke_token(revoke, token=token["refresh_token"]).status_code == 200
        assert client.introspect_token(introspect, token=token["access_token"]).json() == {"active": False}
        assert client.introspect_token(introspect, token="garbage").json() == {"active": False}
    assert rp.userinfo(token["access_token"]).status_code == 401


@SQLITE_ONLY
def test_revoking_an_unknown_token_answers_200_and_an_access_token_stops_working(make_rp, person, agent):
    rp = make_rp()
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    revoke = rp.metadata["revocation_endpoint"]
    with rp.client() as client:
        # RFC 7009 §2.2: an invalid token is no error, the client has nothing more to do.
        assert client.revoke_token(revoke, token="never-issued").status_code == 200
        assert rp.userinfo(token["access_token"]).status_code == 200
        revoked = client.revoke_token(revoke, token=token["access_token"], token_type_hint="access_token")
        assert revoked.status_code == 200
    response = rp.userinfo(token["access_token"])
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["www-authenticate"]


# RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1: the body is application/x-www-form-urlencoded, and no
# parameter is sent twice. A request that breaks either is refused before anything is spent.
def _redeem_data(callback: Callback, pending: dict[str, str], rp: RelyingParty) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": callback.params["code"],
        "redirect_uri": rp.redirect_uri,
        "code_verifier": pending["verifier"],
    }


def _refused(response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request", body
    return str(body["error_description"])


@pytest.mark.parametrize("repeated", ["grant_type", "code", "redirect_uri", "code_verifier", "client_id"])
def test_a_token_request_parameter_given_twice_is_invalid_request(make_rp, person, agent, http, repeated):
    rp = make_rp()
    callback, pending = _code(agent, rp, person)
    data: dict[str, object] = {**_redeem_data(callback, pending, rp), "client_id": rp.client_id}
    data[repeated] = [data[repeated], "again" if repeated != "grant_type" else "refresh_token"]
    response = http.post(rp.metadata["token_endpoint"], data=data, auth=(rp.client_id, rp.client_secret))
    assert repeated in _refused(response)
    assert "id_token" in rp.redeem(callback)  # the code was not spent


def test_a_multipart_token_request_is_invalid_request(make_rp, person, agent, http):
    rp = make_rp()
    callback, pending = _code(agent, rp, person)
    fields = {name: (None, value) for name, value in _redeem_data(callback, pending, rp).items()}
    response = http.post(rp.metadata["token_endpoint"], files=fields, auth=(rp.client_id, rp.client_secret))
    assert "x-www-form-urlencoded" in _refused(response)
    assert "id_token" in rp.redeem(callback)


def test_introspection_and_revocation_refuse_multipart_bodies_and_repeated_parameters(
    make_rp, person, agent, http
):
    rp = make_rp()
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    auth = (rp.client_id, rp.client_secret)
    access = token["access_token"]
    for endpoint in (rp.metadata["introspection_endpoint"], rp.metadata["revocation_endpoint"]):
        multipart = {"token": (None, access), "token_type_hint": (None, "access_token")}
        assert "x-www-form-urlencoded" in _refused(http.post(endpoint, files=multipart, auth=auth))
        twice = {"token": ["never-issued", access]}
        assert "token" in _refused(http.post(endpoint, data=twice, auth=auth))
        assert rp.userinfo(access).status_code == 200  # nothing was revoked
    with rp.client() as client:
        assert client.introspect_token(rp.metadata["introspection_endpoint"], token=access).json()["active"]
