"""The requested claims: one computation for the authorizer and the consent page (pure)."""

from __future__ import annotations

import json

import pytest

from broker.policy.claims import CORE_IDENTITY, VOCAB, ClaimsRequestInvalid, requested

ADDRESS = VOCAB + "address"


@pytest.mark.parametrize(
    ("scope", "claims", "by_scope", "wanted", "asked_about"),
    [
        ("openid", None, set(), set(), set()),
        ("openid email", None, {"email", "email_verified"}, {"email", "email_verified"}, {"email"}),
        (
            "openid email phone",
            "",
            {"email", "email_verified", "phone_number", "phone_number_verified"},
            {"email", "email_verified", "phone_number", "phone_number_verified"},
            {"email", "phone_number"},
        ),
        # The claims parameter adds what the scopes do not name, in userinfo or the ID token.
        (
            "openid",
            json.dumps({"userinfo": {CORE_IDENTITY: None}, "id_token": {"email": {"essential": True}}}),
            set(),
            {CORE_IDENTITY, "email"},
            {CORE_IDENTITY, "email"},
        ),
        # sub and claims the broker does not support are never asked about.
        (
            "openid",
            json.dumps({"userinfo": {"sub": None, "shoe_size": None, ADDRESS: None}}),
            set(),
            {ADDRESS},
            {ADDRESS},
        ),
        # A companion asked for alone is asked about as itself.
        ("openid", json.dumps({"userinfo": {"email_verified": None}}), set(), {"email_verified"}, set()),
        # Scopes the broker does not know stand for no claims.
        ("openid profile", None, set(), set(), set()),
    ],
)
def test_requested_claims(scope, claims, by_scope, wanted, asked_about):
    asked = requested(scope.split(), claims)
    assert asked.scopes == tuple(scope.split())
    assert asked.by_scope == by_scope
    assert asked.claims == wanted
    assert asked.asked_about == asked_about


@pytest.mark.parametrize("claims", ["not json", "[]", '{"userinfo": []}', '{"id_token": {"email": 1}}'])
def test_a_malformed_claims_parameter_is_refused(claims):
    with pytest.raises(ClaimsRequestInvalid):
        requested(["openid"], claims)
