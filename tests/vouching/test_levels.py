"""The identity levels and their order, defined once (vouching/levels.py)."""

from __future__ import annotations

import pytest

from broker.oidc import vtr
from broker.policy import mou
from vouching import scoring
from vouching.levels import LEVELS, NO_IDENTITY, at_least, is_level, next_level, rank


@pytest.mark.parametrize(
    ("level", "expected_rank", "above"),
    [("P0", 0, "P1"), ("P1", 1, "P2"), ("P2", 2, "P3"), ("P3", 3, None)],
)
def test_each_level_has_its_place_and_the_one_above(
    level: str, expected_rank: int, above: str | None
) -> None:
    assert rank(level) == expected_rank
    assert next_level(level) == above
    assert is_level(level)


@pytest.mark.parametrize(
    ("level", "minimum", "met"),
    [
        ("P0", "P0", True),
        ("P0", "P1", False),
        ("P1", "P2", False),
        ("P2", "P2", True),
        ("P3", "P2", True),
        ("P3", "P3", True),
        ("P2", "P3", False),
    ],
)
def test_a_level_meets_every_level_at_or_below_it(level: str, minimum: str, met: bool) -> None:
    assert at_least(level, minimum) is met


@pytest.mark.parametrize("text", ["", "P4", "p1", "Cl", "P"])
def test_anything_else_is_not_a_level(text: str) -> None:
    assert not is_level(text)
    with pytest.raises(ValueError):
        rank(text)


def test_no_identity_is_the_lowest_level() -> None:
    assert NO_IDENTITY == LEVELS[0] == "P0"


def test_every_module_that_lists_the_levels_uses_the_one_definition() -> None:
    assert vtr.IDENTITY_LEVELS is LEVELS
    assert mou.LEVELS is LEVELS
    assert scoring.PROFILES and all(is_level(p.level) for p in scoring.PROFILES)
