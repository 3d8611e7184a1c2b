"""GPG 45 profiles as One Login encodes them: table tests for every profile and near misses, and a
property: adding evidence or raising a score never lowers the level."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vouching.scoring import PROFILES, Evidence, Scores, assess, gaps

PASSPORT = Evidence("uk_passport", 4, 2)
PASSPORT_CHECKED = Evidence("uk_passport", 4, 3)
LICENCE = Evidence("uk_driving_licence", 3, 2)
BILL = Evidence("utility_bill", 2, 2)


@pytest.mark.parametrize(
    ("scores", "level", "profile"),
    [
        (Scores(), "P0", None),
        (Scores((BILL,), 0, 1, 1), "P1", "L1A"),
        (Scores((PASSPORT,), 0, 1, 2), "P2", "M1A"),
        (Scores((LICENCE,), 1, 2, 2), "P2", "M1B"),
        (Scores((Evidence("x", 3, 3),), 0, 0, 3), "P2", "M1C"),
        (Scores((LICENCE, BILL), 1, 1, 2), "P2", "M2B"),
        (Scores((PASSPORT_CHECKED,), 0, 1, 3), "P3", "H1A"),
        # Near misses: one score short of each profile.
        (Scores((Evidence("x", 2, 1),), 0, 1, 1), "P0", None),
        (Scores((BILL,), 0, 0, 1), "P0", None),
        (Scores((PASSPORT,), 0, 1, 1), "P1", "L1A"),
        (Scores((Evidence("x", 4, 1),), 0, 1, 2), "P0", None),
        (Scores((LICENCE,), 0, 2, 2), "P1", "L1A"),
        (Scores((LICENCE,), 1, 1, 2), "P1", "L1A"),
        (Scores((LICENCE, BILL), 1, 1, 1), "P1", "L1A"),
        (Scores((LICENCE, Evidence("x", 1, 2)), 1, 1, 2), "P1", "L1A"),
        (Scores((PASSPORT,), 0, 1, 3), "P2", "M1A"),  # validity 2 is not enough for H1A
        (Scores((PASSPORT_CHECKED,), 0, 0, 3), "P2", "M1C"),
    ],
)
def test_levels(scores, level, profile):
    result = assess(scores)
    assert (result.level, result.profile) == (level, profile)


def test_one_piece_cannot_count_twice():
    assert assess(Scores((LICENCE,), 1, 1, 2)).level == "P1"  # M2B needs two distinct pieces
    m2b = next(p for p in PROFILES if p.name == "M2B")
    assert gaps(m2b, Scores((LICENCE,), 1, 1, 2)) == [
        "needs a second piece of evidence of strength 2 and validity 2"
    ]


def test_what_is_missing_is_said_in_words():
    result = assess(Scores((LICENCE,), 0, 1, 2))
    assert result.level == "P1"
    steps = dict(result.next_steps)
    assert steps["M1B"] == ("needs an activity history score of 1", "needs an identity fraud score of 2")
    assert steps["M2B"] == (
        "needs a second piece of evidence of strength 2 and validity 2",
        "needs an activity history score of 1",
    )
    assert result.next_steps[0][0] in ("M1A", "M1C", "M1B", "M2B")
    assert assess(Scores((PASSPORT_CHECKED,), 0, 1, 3)).next_steps == ()


evidence = st.builds(Evidence, st.sampled_from(["a", "b"]), st.integers(0, 4), st.integers(0, 4))
scores = st.builds(
    Scores, st.lists(evidence, max_size=3).map(tuple), st.integers(0, 4), st.integers(0, 3), st.integers(0, 4)
)
LEVEL_RANK = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}


@given(scores, evidence, st.integers(0, 2))
def test_more_evidence_never_lowers_the_level(base, extra, bump):
    before = LEVEL_RANK[assess(base).level]
    more = Scores(base.evidence + (extra,), base.activity + bump, base.fraud + bump, base.verification + bump)
    assert LEVEL_RANK[assess(more).level] >= before
