"""Scopes and the OIDC claims parameter (OIDC Core §5.4, §5.5)."""

from __future__ import annotations

import json

import pytest

from broker.accounts.subject import default_sector, pairwise_sub, subject_for
from broker.policy.claims import (
    CORE_IDENTITY,
    ClaimsRequestInvalid,
    parse_claims_parameter,
    scope_claims,
    shareable,
    with_companions,
)


def test_claims_parameter_members():
    request = parse_claims_parameter(
        json.dumps(
            {
                "userinfo": {"email": None, CORE_IDENTITY: None, "unknown_claim": None, "sub": None},
                "id_token": {"email": {"essential": True}},
            }
        )
    )
    assert request.userinfo == {"email": None, CORE_IDENTITY: None}
    assert request.id_token == {"email": {"essential": True}}
    assert request.names == {"email", CORE_IDENTITY}


@pytest.mark.parametrize("raw", ["{", "[]", '"x"', '{"userinfo": []}', '{"userinfo": {"email": 1}}'])
def test_malformed_claims_parameter(raw):
    with pytest.raises(ClaimsRequestInvalid):
        parse_claims_parameter(raw)


def test_empty_claims_parameter():
    assert parse_claims_parameter(None).names == set()
    assert parse_claims_parameter('{"userinfo": null}').names == set()


def test_scope_claims_and_companions():
    assert scope_claims(["openid", "email", "phone"]) == {
        "email",
        "email_verified",
        "phone_number",
        "phone_number_verified",
    }
    assert with_companions(["email"]) == {"email", "email_verified"}
    assert shareable({"email", "email_verified", "phone_number"}) == {"email", "phone_number"}


def test_pairwise_subjects():
    a = pairwise_sub("sector-a", "account-1", "seed")
    assert a == pairwise_sub("sector-a", "account-1", "seed")
    assert a != pairwise_sub("sector-b", "account-1", "seed")
    assert a != pairwise_sub("sector-a", "account-2", "seed")
    assert a != pairwise_sub("sector-a", "account-1", "other-seed")
    assert subject_for("public", "sector-a", "account-1", "seed") == "account-1"
    assert default_sector(["https://service.example/callback"]) == "service.example"
