"""What the person is told would raise a vouched identity, and the claimed address as it is stored (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from vouching.person import Address, normalise_building
from vouching.vouches import EffectiveVouch, advice

INDEPENDENT = "Ask at least 2 people who do not live together to vouch for you."
REFEREE = "Ask a registered professional who knows you"
HISTORY = "We need a longer history of your identity being used"
DOCUMENTS = "Or prove your identity with a UK passport or photocard driving licence."


def vouch(voucher: str, address: str, referee: bool = False) -> EffectiveVouch:
    return EffectiveVouch(voucher, referee, frozenset({address}))


TWO_APART = [vouch("a", "1 High St"), vouch("b", "2 Low Rd")]
TWO_TOGETHER = [vouch("a", "1 High St"), vouch("b", "1 High St")]


@pytest.mark.parametrize(
    ("level", "vouches", "activity", "advised"),
    [
        # Proven to P2 or more: vouching has nothing to add.
        ("P2", [], 0, []),
        ("P3", TWO_APART, 0, []),
        # No identity yet: more independent vouchers first, or documents.
        ("P0", [], 0, [INDEPENDENT, DOCUMENTS]),
        ("P0", TWO_TOGETHER, 0, [INDEPENDENT, DOCUMENTS]),  # two at one address count once
        # Two independent vouchers but not yet P1 (no fraud check, say): a referee and a history next.
        ("P0", TWO_APART, 0, [REFEREE, HISTORY, DOCUMENTS]),
        # P1 on the way to P2: a referee and the activity history, unless they are already there.
        ("P1", TWO_APART, 0, [REFEREE, HISTORY, DOCUMENTS]),
        ("P1", TWO_APART, 1, [REFEREE, DOCUMENTS]),
        ("P1", [vouch("a", "1 High St", referee=True), vouch("b", "2 Low Rd")], 1, [DOCUMENTS]),
        ("P1", [vouch("a", "1 High St", referee=True)], 0, [INDEPENDENT, HISTORY, DOCUMENTS]),
    ],
)
def test_advice_names_what_is_missing_for_the_next_level(
    level: str, vouches: list[EffectiveVouch], activity: int, advised: list[str]
) -> None:
    words = advice(level, vouches, activity)
    assert len(words) == len(advised)
    assert all(str(word).startswith(start) for word, start in zip(words, advised, strict=True))


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("10a", "10 A", True),
        ("10-A", "10a", True),
        ("Rosé Cottage", "ROSE COTTAGE", True),
        ("12", "14", False),
    ],
)
def test_buildings_compare_by_letters_and_digits_only(one: str, other: str, same: bool) -> None:
    assert (normalise_building(one) == normalise_building(other)) is same


@pytest.mark.parametrize("until", [None, date(2024, 3, 31)])
def test_an_address_is_stored_and_read_back_unchanged(until: date | None) -> None:
    address = Address("10a", "High Street", "Leeds", "LS1 4AP", date(2019, 6, 1), until)
    stored = address.as_dict()
    assert stored["lived_until"] == (until.isoformat() if until else None)
    assert Address.from_dict(stored) == address
