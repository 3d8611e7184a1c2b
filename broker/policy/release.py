"""The release decision: the one function that says which attributes about a person leave the broker.

(MOU version in force?, requested claims, consent, identity level, time) → the claims released and,
for each claim refused, why. Authorize, token, userinfo and the identity claims all call it; nothing
else decides (pure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from broker.policy.mou import LEVELS, Terms, in_force

ALWAYS = frozenset({"sub"})  # the pairwise subject identifier is not an attribute about the person


@dataclass(frozen=True)
class Agreement:
    """The MOU version that governs a service now, as the decision sees it."""

    version_id: str
    status: str
    terms: Terms


@dataclass(frozen=True)
class ConsentFacts:
    version_id: str | None  # the MOU version the person agreed under
    claims: frozenset[str]  # what they agreed to share
    withdrawn: bool = False
    declined: frozenset[str] = frozenset()  # optional attributes they chose not to share
    consent_id: str | None = None  # the stored consent these facts come from (for the ledger)


@dataclass(frozen=True)
class Release:
    released: frozenset[str]
    refused: dict[str, str] = field(default_factory=dict)  # claim → why

    @property
    def complete(self) -> bool:
        return not self.refused


def decide(
    agreement: Agreement | None,
    requested: frozenset[str],
    consent: ConsentFacts | None,
    identity_level: str,
    now: datetime,
    *,
    consent_needed: bool = True,
) -> Release:
    """``consent_needed=False`` asks only what the MOU allows (used before the person is asked)."""
    wanted = requested - ALWAYS
    if agreement is None:
        return Release(frozenset(), {c: "the service has no data sharing agreement" for c in wanted})
    if not in_force(agreement.status, agreement.terms, now):
        return Release(
            frozenset(), {c: "the service's data sharing agreement is not in force" for c in wanted}
        )
    released, refused = set(), {}
    for claim in sorted(wanted):
        term = agreement.terms.attribute(claim)
        if term is None:
            refused[claim] = "the data sharing agreement does not cover it"
        elif LEVELS.index(identity_level) < LEVELS.index(term.min_level):
            refused[claim] = f"it needs an identity proven to {term.min_level}"
        elif consent_needed and (consent is None or consent.withdrawn):
            refused[claim] = "the person has not agreed to share it"
        elif consent_needed and consent is not None and claim not in consent.claims:
            refused[claim] = "the person chose not to share it"
        else:
            released.add(claim)
    return Release(frozenset(released), refused)
