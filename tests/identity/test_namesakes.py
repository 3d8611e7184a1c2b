"""The review rule ``not_proven_elsewhere`` as pure decisions: which namesakes a reviewer has yet to
weigh a vouch against, which counted vouches a document proof sends back, and when an accepted vouch
counts again."""

from __future__ import annotations

import pytest

from broker.identity.namesakes import CountedVouch, cooled_off, held_entry, to_hold, unweighed

CYCLE = {"rule": "no_cycle", "reason": "this vouch would close a cycle of vouches", "review": True}
HELD_FOR_A = held_entry(["acc-a"], counted=False)
HELD_FOR_A_AND_B = held_entry(["acc-b", "acc-a"], counted=True)
HELD_BEFORE_ACCOUNTS_WERE_KEPT = {"rule": "not_proven_elsewhere", "reason": "...", "review": True}


@pytest.mark.parametrize(
    ("refusals", "reviewed", "namesakes", "expected"),
    [
        ([], False, ["acc-a"], ["acc-a"]),  # never held: every namesake is news
        ([], False, [], []),
        ([HELD_FOR_A], False, ["acc-a"], ["acc-a"]),  # held, no reviewer has decided yet
        ([HELD_FOR_A], True, ["acc-a"], []),  # accepted knowing of this person
        ([HELD_FOR_A], True, ["acc-a", "acc-b"], ["acc-b"]),  # someone proven since is news
        ([HELD_FOR_A, HELD_FOR_A_AND_B], True, ["acc-b", "acc-a"], []),
        ([CYCLE], True, ["acc-a"], ["acc-a"]),  # accepted for another reason weighs no namesake
        ([HELD_BEFORE_ACCOUNTS_WERE_KEPT], True, ["acc-c"], []),  # as the rule always read them
        ([HELD_FOR_A], True, ["acc-a", "acc-a"], []),
    ],
)
def test_the_namesakes_a_reviewer_has_not_weighed(refusals, reviewed, namesakes, expected):
    assert unweighed(refusals, reviewed, namesakes) == expected


def test_a_document_proof_holds_every_counted_vouch_not_accepted_knowing_of_its_namesakes():
    counted = [
        CountedVouch("fresh", (), reviewed=False),
        CountedVouch("weighed", (HELD_FOR_A,), reviewed=True),
        CountedVouch("cycle", (CYCLE,), reviewed=True),
    ]
    assert to_hold(counted, ["acc-a"]) == ["fresh", "cycle"]
    assert to_hold(counted, ["acc-a", "acc-b"]) == ["fresh", "weighed", "cycle"]
    assert to_hold(counted, []) == []


def test_a_hold_names_the_accounts_in_order_and_whether_the_vouch_had_counted():
    assert HELD_FOR_A_AND_B == {
        "rule": "not_proven_elsewhere",
        "reason": HELD_FOR_A_AND_B["reason"],
        "review": True,
        "proven_accounts": ["acc-a", "acc-b"],
        "counted": True,
    }


@pytest.mark.parametrize(
    ("refusals", "expected"),
    [
        ([], False),
        ([CYCLE], False),  # held when given: cooling-off after acceptance
        ([HELD_FOR_A], False),  # held as it was about to count
        ([HELD_FOR_A, HELD_FOR_A_AND_B], True),  # held after it had counted
        ([HELD_FOR_A_AND_B, CYCLE], False),  # the latest hold decides
    ],
)
def test_an_accepted_vouch_that_had_counted_needs_no_second_cooling_off(refusals, expected):
    assert cooled_off(refusals) is expected
