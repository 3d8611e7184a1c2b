"""What a request asks to know about the person: scopes and the OIDC ``claims`` parameter (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from vouching.text import N_

VOCAB = "https://vocab.account.gov.uk/v1/"
CORE_IDENTITY = VOCAB + "coreIdentityJWT"
VERIFIED_CLAIMS = "verified_claims"  # OIDC for Identity Assurance 1.0
RETURN_CODE = VOCAB + "returnCode"
IDENTITY_CLAIMS = frozenset(
    {
        CORE_IDENTITY,
        VOCAB + "address",
        VOCAB + "passport",
        VOCAB + "drivingPermit",
        VOCAB + "returnCode",
        VERIFIED_CLAIMS,
    }
)

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": (),
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "offline_access": (),
}
SCOPES_SUPPORTED = list(SCOPE_CLAIMS)
# A claim a service may be allowed to receive, and the companion claims that come with it.
COMPANIONS = {"email": ("email_verified",), "phone_number": ("phone_number_verified",)}
STANDARD_CLAIMS = ["sub", "email", "email_verified", "phone_number", "phone_number_verified"]
CLAIMS_SUPPORTED = STANDARD_CLAIMS + sorted(IDENTITY_CLAIMS)
# What an agreement may list: every claim the broker can release about a person.
AGREEABLE_CLAIMS = frozenset(CLAIMS_SUPPORTED) - {"sub"}

HUMAN_NAMES = {
    "email": N_("your email address"),
    "phone_number": N_("your phone number"),
    CORE_IDENTITY: N_("your name and date of birth (a proven identity)"),
    VOCAB + "address": N_("your address"),
    VOCAB + "passport": N_("your passport details"),
    VOCAB + "drivingPermit": N_("your driving licence details"),
    VOCAB + "returnCode": N_("identity check return codes"),
    VERIFIED_CLAIMS: N_("your proven name, date of birth and address, and how they were checked"),
}


class ClaimsRequestInvalid(ValueError):
    pass


@dataclass(frozen=True)
class ClaimsRequest:
    userinfo: dict[str, Any] = field(default_factory=dict)
    id_token: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"userinfo": self.userinfo, "id_token": self.id_token}

    @property
    def names(self) -> set[str]:
        return set(self.userinfo) | set(self.id_token)


def parse_claims_parameter(raw: str | None) -> ClaimsRequest:
    """OIDC Core §5.5: a JSON object with optional ``userinfo`` and ``id_token`` members."""
    if raw in (None, ""):
        return ClaimsRequest()
    try:
        value = json.loads(raw)  # type: ignore[arg-type]
    except ValueError:
        raise ClaimsRequestInvalid("claims is not valid JSON") from None
    if not isinstance(value, dict):
        raise ClaimsRequestInvalid("claims must be a JSON object")
    members: dict[str, dict[str, Any]] = {}
    for member in ("userinfo", "id_token"):
        requested = value.get(member, {})
        if requested is None:
            requested = {}
        if not isinstance(requested, dict):
            raise ClaimsRequestInvalid(f"claims.{member} must be an object")
        for name, spec in requested.items():
            if spec is not None and not isinstance(spec, dict):
                raise ClaimsRequestInvalid(f"claims.{member}.{name} must be null or an object")
        members[member] = {k: v for k, v in requested.items() if k in CLAIMS_SUPPORTED and k != "sub"}
    return ClaimsRequest(userinfo=members["userinfo"], id_token=members["id_token"])


def scope_claims(scopes: list[str]) -> set[str]:
    return {claim for scope in scopes for claim in SCOPE_CLAIMS.get(scope, ())}


def with_companions(claims: set[str] | list[str]) -> set[str]:
    out = set(claims)
    for claim in claims:
        out.update(COMPANIONS.get(claim, ()))
    return out


def shareable(claims: set[str]) -> set[str]:
    """The claims a person is asked about: companions ride along with their main claim."""
    companions = {c for group in COMPANIONS.values() for c in group}
    return {c for c in claims if c not in companions}


@dataclass(frozen=True)
class Requested:
    """What an authorization request asks to know about the person: the claims its scopes stand for
    and the claims its ``claims`` parameter names. The authorizer and the consent page both ask
    :func:`requested`, so what is checked against the MOU is what the person is asked about."""

    scopes: tuple[str, ...]
    parameter: ClaimsRequest
    by_scope: frozenset[str]

    @property
    def claims(self) -> frozenset[str]:
        return self.by_scope | self.parameter.names

    @property
    def asked_about(self) -> frozenset[str]:
        """The claims the person is asked to agree to (companions ride along with their main claim)."""
        return frozenset(shareable(set(self.claims)))


def requested(scopes: list[str] | tuple[str, ...], claims_parameter: str | None) -> Requested:
    """The claims a request asks for; :class:`ClaimsRequestInvalid` when its ``claims`` parameter is
    malformed (OIDC Core §5.5)."""
    parameter = parse_claims_parameter(claims_parameter)
    return Requested(tuple(scopes), parameter, frozenset(scope_claims(list(scopes))))
