"""Vouches as evidence, and the revocation cascade (pure).

A vouch that has passed every rule and its cooling-off period is *effective*. Effective vouches become
GPG 45 evidence in the same scoring core as documents:

| vouch from            | evidence (strength, validity) |
|-----------------------|-------------------------------|
| an ordinary voucher   | (2, 2)                        |
| a registered referee  | (3, 2)                        |

Verification: each voucher confirms the applicant is the person they know. Only independent
confirmation counts (different people: different accounts, addresses and proving documents): two or
more give verification 2, fewer give none, so one vouch alone never proves anyone. Two ordinary vouchers with a fraud check reach L1A (P1);
a referee, an ordinary voucher, activity history of at least 180 days and a fraud check reach M2B (P2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from vouching.levels import at_least
from vouching.scoring import Evidence, Scores
from vouching.text import N_

ORDINARY = (2, 2)
REFEREE = (3, 2)


@dataclass(frozen=True)
class VouchState:
    """What decides whether a vouch counts now."""

    accepted_at: datetime | None  # the voucher made the declaration and every rule passed
    effective_at: datetime | None  # end of cooling-off (None while held for review)
    withdrawn_at: datetime | None
    refused: bool  # refused by a rule or a reviewer

    def status(self, now: datetime) -> str:
        if self.refused:
            return "refused"
        if self.withdrawn_at is not None:
            return "withdrawn"
        if self.accepted_at is None:
            return "invited"
        if self.effective_at is None:
            return "review"
        return "effective" if now >= self.effective_at else "cooling_off"


@dataclass(frozen=True)
class EffectiveVouch:
    voucher_id: str
    is_referee: bool
    voucher_address_keys: frozenset[str]
    voucher_document_keys: frozenset[str] = frozenset()  # fingerprints of the documents that proved them


def _apart(a: EffectiveVouch, b: EffectiveVouch) -> bool:
    """Two vouches from different people: different accounts, no shared address, no shared document."""
    return (
        a.voucher_id != b.voucher_id
        and a.voucher_address_keys.isdisjoint(b.voucher_address_keys)
        and a.voucher_document_keys.isdisjoint(b.voucher_document_keys)
    )


def independent_vouchers(vouches: Iterable[EffectiveVouch]) -> int:
    """The most vouchers that share no account, address or document with one another. (Counting
    greedily is not enough: a voucher with two addresses would hide two others, and withdrawing that
    vouch would then raise the count.) An applicant has a handful of vouches, so trying the groups is
    cheap."""
    items = list(vouches)
    for size in range(len(items), 1, -1):
        for group in combinations(items, size):
            if all(_apart(a, b) for a, b in combinations(group, 2)):
                return size
    return min(len(items), 1)


def vouch_scores(vouches: list[EffectiveVouch], activity: int, fraud: int) -> Scores:
    evidence = tuple(
        Evidence("vouch", *(REFEREE if v.is_referee else ORDINARY))
        for v in sorted(vouches, key=lambda v: (not v.is_referee, v.voucher_id))
    )
    independent = independent_vouchers(vouches)
    verification = 2 if independent >= 2 else 0
    return Scores(evidence, activity, fraud, verification)


def advice(level: str, vouches: list[EffectiveVouch], activity: int) -> list[str]:
    """What would raise a vouched identity, in plain words."""
    if at_least(level, "P2"):
        return []
    words = []
    if independent_vouchers(vouches) < 2:
        words.append(N_("Ask at least 2 people who do not live together to vouch for you."))
    if level == "P1" or independent_vouchers(vouches) >= 2:
        if not any(v.is_referee for v in vouches):
            words.append(
                N_(
                    "Ask a registered professional who knows you, such as your doctor, teacher or social "
                    "worker, to vouch for you: their vouch counts for more."
                )
            )
        if activity < 1:
            words.append(
                N_("We need a longer history of your identity being used, such as a bank account or bills.")
            )
    words.append(N_("Or prove your identity with a UK passport or photocard driving licence."))
    return words


@dataclass(frozen=True)
class Edge:
    voucher_id: str
    applicant_id: str


def dependants(revoked: str, edges: Iterable[Edge]) -> set[str]:
    """Applicants whose identity rests on a vouch from ``revoked``. Vouched identities cannot vouch
    (the rules refuse it), so the cascade is one step deep: exactly these identities are re-scored."""
    return {e.applicant_id for e in edges if e.voucher_id == revoked}
