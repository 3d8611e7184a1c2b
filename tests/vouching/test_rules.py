"""The vouching rules, each alone and in combination, and vouches as evidence (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vouching.rules import (
    Applicant,
    Case,
    Circle,
    PastVouch,
    Statement,
    Voucher,
    VouchingPolicy,
    check_vouch,
)
from vouching.scoring import assess
from vouching.vouches import Edge, EffectiveVouch, VouchState, dependants, independent_vouchers, vouch_scores

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
APPLICANT = Applicant("app", "Sam", "Taylor", date(1990, 5, 1), "12|CF10 1AA")
VOUCHER = Voucher(
    account_id="v1",
    given_names="Priya",
    family_name="Shah",
    birth_date=date(1975, 2, 3),
    level="P2",
    route="documents",
    proven_at=NOW - timedelta(days=100),
    address_keys=frozenset({"3|CF11 9AB"}),
)
FRIEND = Statement("friend", 5, False)
BASE = Case(APPLICANT, VOUCHER, FRIEND, Circle(), NOW)


def rules_broken(case: Case) -> list[str]:
    return [r.rule for r in check_vouch(case)]


def year_of_vouches(n: int, address: str = "elsewhere") -> tuple[PastVouch, ...]:
    return tuple(
        PastVouch(f"other{i}", f"{address}{i}", NOW - timedelta(days=30 * (i + 1))) for i in range(n)
    )


@pytest.mark.parametrize(
    ("changes", "broken"),
    [
        ({}, []),
        (
            {
                "voucher": replace(
                    VOUCHER, given_names="Sam", family_name="Taylor", birth_date=date(1990, 5, 1)
                )
            },
            ["not_self"],
        ),
        ({"voucher": replace(VOUCHER, account_id="app")}, ["not_self"]),
        # Proven by the applicant's own document: the same person, whatever name they gave.
        (
            {
                "applicant": replace(APPLICANT, document_keys=frozenset({"doc1"})),
                "voucher": replace(VOUCHER, document_keys=frozenset({"doc1", "doc2"})),
            },
            ["not_self"],
        ),
        (
            {
                "applicant": replace(APPLICANT, document_keys=frozenset({"doc1"})),
                "voucher": replace(VOUCHER, document_keys=frozenset({"doc2"})),
            },
            [],
        ),
        ({"circle": Circle(voucher_vouched_already=True)}, ["one_vouch_each"]),
        ({"voucher": replace(VOUCHER, level="P1")}, ["voucher_identity_is_strong"]),
        (
            {"voucher": replace(VOUCHER, proven_at=NOW - timedelta(days=4 * 365))},
            ["voucher_identity_is_strong"],
        ),
        ({"voucher": replace(VOUCHER, route="vouching")}, ["voucher_not_vouched_for"]),
        ({"statement": Statement("friend", 1, False)}, ["known_long_enough"]),
        ({"statement": Statement("relative", 10, False)}, ["not_a_relative"]),
        ({"statement": Statement("partner", 10, False)}, ["not_a_relative"]),
        ({"statement": Statement("parent", 30, True)}, ["not_a_relative"]),  # the applicant is an adult
        ({"statement": Statement("cousin", 10, False)}, ["not_a_relative"]),
        ({"statement": Statement("friend", 5, True)}, ["lives_apart"]),
        ({"voucher": replace(VOUCHER, address_keys=frozenset({"12|CF10 1AA"}))}, ["lives_apart"]),
        ({"circle": Circle(other_voucher_address_keys=frozenset({"3|CF11 9AB"}))}, ["vouchers_independent"]),
        ({"circle": Circle(linked_to_other_voucher=True)}, ["vouchers_independent"]),
        # One person on two accounts: one document, or two documents naming one person.
        (
            {
                "voucher": replace(VOUCHER, document_keys=frozenset({"doc1"})),
                "circle": Circle(other_voucher_document_keys=frozenset({"doc1"})),
            },
            ["vouchers_independent"],
        ),
        (
            {
                "voucher": replace(VOUCHER, document_keys=frozenset({"doc1"})),
                "circle": Circle(other_voucher_document_keys=frozenset({"doc2"})),
            },
            [],
        ),
        (
            {"circle": Circle(other_voucher_people=frozenset({"PRIYA|SHAH|1975-02-03"}))},
            ["vouchers_independent"],
        ),
        (
            {"circle": Circle(other_voucher_people=frozenset({"PRIYA|SHAH|1975-02-04"}))},
            [],
        ),
        ({"voucher": replace(VOUCHER, past_vouches=year_of_vouches(3))}, ["within_caps"]),
        ({"voucher": replace(VOUCHER, past_vouches=year_of_vouches(2))}, []),
        (
            {
                "voucher": replace(
                    VOUCHER, past_vouches=(PastVouch("x", "12|CF10 1AA", NOW - timedelta(days=5)),)
                )
            },
            ["within_caps"],
        ),
        ({"voucher": replace(VOUCHER, is_referee=True, past_vouches=year_of_vouches(5))}, []),
        ({"circle": Circle(applicant_vouched_for_voucher=True)}, ["not_reciprocal"]),
        ({"circle": Circle(cycle_through=("app", "x", "v1"))}, ["no_cycle"]),
        ({"circle": Circle(applicants_shared_with_other_vouchers=2)}, ["not_a_dense_cluster"]),
        ({"circle": Circle(vouched_applicants_at_address=3)}, ["not_a_dense_cluster"]),
        ({"applicant": replace(APPLICANT, proven_elsewhere=True)}, ["not_proven_elsewhere"]),
        # Combinations: every broken rule is reported, not just the first.
        (
            {"voucher": replace(VOUCHER, route="vouching"), "statement": Statement("friend", 1, True)},
            ["voucher_not_vouched_for", "known_long_enough", "lives_apart"],
        ),
    ],
)
def test_each_rule(changes, broken):
    assert rules_broken(replace(BASE, **changes)) == broken


def test_old_vouches_fall_out_of_the_cap():
    old = tuple(PastVouch(f"o{i}", f"a{i}", NOW - timedelta(days=400)) for i in range(5))
    assert rules_broken(replace(BASE, voucher=replace(VOUCHER, past_vouches=old))) == []


def test_a_parent_may_vouch_for_a_child_living_with_them():
    child = replace(APPLICANT, birth_date=date(2012, 1, 1))
    case = replace(BASE, applicant=child, statement=Statement("parent", 14, True))
    assert rules_broken(case) == []


def test_graph_objections_hold_for_review_and_rule_objections_refuse():
    refusals = check_vouch(
        replace(BASE, statement=Statement("friend", 1, False), circle=Circle(cycle_through=("a",)))
    )
    assert [(r.rule, r.review) for r in refusals] == [("known_long_enough", False), ("no_cycle", True)]


def test_a_person_a_document_proved_on_another_account_is_for_a_reviewer_not_a_refusal():
    """Names and birth dates coincide: a match with someone proven by a document holds the vouch for a
    person to decide, whoever the voucher is."""
    refusals = check_vouch(replace(BASE, applicant=replace(APPLICANT, proven_elsewhere=True)))
    assert [(r.rule, r.review) for r in refusals] == [("not_proven_elsewhere", True)]
    assert "already proved their identity with a document on another account" in refusals[0].reason


def test_thresholds_come_from_the_policy():
    stricter = VouchingPolicy(min_known_years=10, max_vouches_per_year=1)
    case = replace(BASE, policy=stricter, voucher=replace(VOUCHER, past_vouches=year_of_vouches(1)))
    assert rules_broken(case) == ["known_long_enough", "within_caps"]


def ordinary(i: int, address: str | None = None) -> EffectiveVouch:
    return EffectiveVouch(f"v{i}", False, frozenset({address or f"addr{i}"}))


REFEREE = EffectiveVouch("ref", True, frozenset({"surgery"}))


@pytest.mark.parametrize(
    ("vouches", "activity", "fraud", "level", "profile"),
    [
        ([ordinary(1), ordinary(2)], 0, 1, "P1", "L1A"),  # two independent vouchers
        ([ordinary(1), ordinary(2, "addr1")], 0, 1, "P0", None),  # one household is one confirmation
        ([ordinary(1)], 0, 1, "P0", None),  # one vouch alone proves nothing
        ([ordinary(1), ordinary(2)], 0, 0, "P0", None),  # fraud check failed
        ([REFEREE, ordinary(1)], 1, 1, "P2", "M2B"),
        ([REFEREE, ordinary(1)], 0, 1, "P1", "L1A"),  # no activity history
        ([], 3, 2, "P0", None),
    ],
)
def test_vouches_as_evidence(vouches, activity, fraud, level, profile):
    result = assess(vouch_scores(vouches, activity, fraud))
    assert (result.level, result.profile) == (level, profile)


def test_vouchers_at_one_address_count_once():
    assert independent_vouchers([ordinary(1, "x"), ordinary(2, "x"), ordinary(3, "y")]) == 2


def test_vouchers_proven_by_one_document_count_once():
    one_passport = [
        EffectiveVouch("v1", False, frozenset({"a1"}), frozenset({"doc"})),
        EffectiveVouch("v2", False, frozenset({"a2"}), frozenset({"doc"})),
    ]
    assert independent_vouchers(one_passport) == 1
    assert assess(vouch_scores(one_passport, 0, 1)).level == "P0"


def test_one_voucher_twice_counts_once():
    twice = [ordinary(1, "a1"), EffectiveVouch("v1", False, frozenset({"a2"}))]
    assert independent_vouchers(twice) == 1


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (VouchState(None, None, None, False), "invited"),
        (VouchState(NOW, None, None, False), "review"),
        (VouchState(NOW, NOW + timedelta(days=7), None, False), "cooling_off"),
        (VouchState(NOW - timedelta(days=8), NOW - timedelta(days=1), None, False), "effective"),
        (VouchState(NOW, NOW, NOW, False), "withdrawn"),
        (VouchState(NOW, None, None, True), "refused"),
    ],
)
def test_vouch_status(state, status):
    assert state.status(NOW) == status


vouch_sets = st.lists(
    st.builds(
        EffectiveVouch,
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.booleans(),
        st.frozensets(st.sampled_from(["h1", "h2", "h3", "h4"]), min_size=1, max_size=2),
        st.frozensets(st.sampled_from(["d1", "d2", "d3"]), max_size=1),
    ),
    max_size=5,
    unique_by=lambda v: v.voucher_id,
)


@given(vouch_sets, st.integers(0, 4), st.integers(0, 3), st.data())
def test_removing_a_vouch_never_raises_the_level(vouches, activity, fraud, data):
    if not vouches:
        return
    removed = data.draw(st.sampled_from(vouches))
    fewer = [v for v in vouches if v != removed]
    levels = ("P0", "P1", "P2", "P3")
    before = assess(vouch_scores(vouches, activity, fraud)).level
    after = assess(vouch_scores(fewer, activity, fraud)).level
    assert levels.index(after) <= levels.index(before)


edges = st.lists(
    st.builds(
        Edge, st.sampled_from(["p1", "p2", "p3", "p4"]), st.sampled_from(["q1", "q2", "q3", "q4", "q5"])
    ),
    max_size=12,
)


@given(edges, st.sampled_from(["p1", "p2", "p3", "p4"]))
def test_the_cascade_reaches_exactly_the_identities_that_depended_on_the_revoked_voucher(graph, revoked):
    reached = dependants(revoked, graph)
    for applicant in {e.applicant_id for e in graph}:
        depended = any(e.voucher_id == revoked and e.applicant_id == applicant for e in graph)
        assert (applicant in reached) is depended


def test_a_voucher_at_two_addresses_does_not_hide_two_independent_others():
    # Found by the property above: counted greedily, the referee's two homes hid both friends.
    referee = EffectiveVouch("ref", True, frozenset({"h2", "h4"}))
    friends = [EffectiveVouch("a", False, frozenset({"h2"})), EffectiveVouch("b", False, frozenset({"h4"}))]
    assert independent_vouchers([referee, *friends]) == 2
    assert assess(vouch_scores([referee, *friends], 0, 1)).level == "P1"
