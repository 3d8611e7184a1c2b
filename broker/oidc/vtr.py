"""Vectors of trust (RFC 8485) as GOV.UK One Login uses them on the authorize request.

``Cl`` is a password, ``Cl.Cm`` a password and a second factor (the default), and ``P1``..``P3``
ask for identity confidence. Components may come in any order; a P level needs ``Cm``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from vouching.levels import LEVELS as IDENTITY_LEVELS

AUTH_LEVELS = ("Cl", "Cl.Cm")
DEFAULT_VTR = '["Cl.Cm"]'
SUPPORTED_VTR = ["Cl", "Cl.Cm", "Cl.Cm.P1", "Cl.Cm.P2", "Cl.Cm.P3"]


class VtrInvalid(ValueError):
    pass


@dataclass(frozen=True)
class Vector:
    auth: str  # "Cl" or "Cl.Cm"
    identity: str | None  # "P1".."P3", or None when no identity is asked for

    def __str__(self) -> str:
        return self.auth + (f".{self.identity}" if self.identity else "")


@dataclass(frozen=True)
class TrustRequest:
    """The vectors an authorize request accepts: one authentication level, identity levels as alternatives."""

    auth: str
    identity_levels: tuple[str, ...]  # empty when no identity is asked for

    @property
    def wants_identity(self) -> bool:
        return bool(self.identity_levels)


def parse_vector(text: str) -> Vector:
    parts = text.split(".")
    if len(set(parts)) != len(parts) or not all(parts):
        raise VtrInvalid("Request vtr not valid")
    unknown = [p for p in parts if p not in ("Cl", "Cm") + IDENTITY_LEVELS]
    if unknown:
        raise VtrInvalid("Request vtr not valid")
    levels = [p for p in parts if p in IDENTITY_LEVELS]
    if len(levels) > 1 or "Cl" not in parts:
        raise VtrInvalid("Request vtr not valid")
    auth = "Cl.Cm" if "Cm" in parts else "Cl"
    identity = levels[0] if levels and levels[0] != "P0" else None
    if identity and auth != "Cl.Cm":
        # One Login: an identity level without a second factor is refused.
        raise VtrInvalid("Request vtr not valid")
    return Vector(auth, identity)


def parse_vtr(raw: str | None) -> TrustRequest:
    """Parse the ``vtr`` parameter: a JSON array of vectors (absent means ``["Cl.Cm"]``)."""
    try:
        values = json.loads(raw if raw not in (None, "") else DEFAULT_VTR)
    except (ValueError, TypeError):
        raise VtrInvalid("Request vtr not valid") from None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise VtrInvalid("Request vtr not valid")
    if not values:
        values = json.loads(DEFAULT_VTR)
    vectors = [parse_vector(v) for v in values]
    auths = {v.auth for v in vectors}
    if len(auths) != 1:
        raise VtrInvalid("Request vtr not valid: every vector must ask for the same authentication")
    levels = tuple(sorted({v.identity for v in vectors if v.identity}))
    if levels and any(v.identity is None for v in vectors):
        raise VtrInvalid("Request vtr not valid: mixes identity and no identity")
    return TrustRequest(auth=auths.pop(), identity_levels=levels)


def auth_satisfies(achieved: str, required: str) -> bool:
    return AUTH_LEVELS.index(achieved) >= AUTH_LEVELS.index(required)


def best_identity_level(held: str, accepted: tuple[str, ...]) -> str | None:
    """The highest accepted level the person holds (holding P3 satisfies a P2 request), or None."""
    rank = IDENTITY_LEVELS.index(held)
    met = [level for level in accepted if IDENTITY_LEVELS.index(level) <= rank]
    return max(met, key=IDENTITY_LEVELS.index) if met else None
