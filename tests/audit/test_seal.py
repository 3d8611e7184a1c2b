"""Release seals (pure): each seal is recomputed from the release ledger, so a sealed release that is
deleted, added or altered afterwards is named by the seal that covered it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from broker.audit.seal import SETTLE, Release, Seal, check_seals, release_line, seal, window_until

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def release(n: int, seconds: float | None = None) -> Release:
    return Release(
        id=f"r{n:03d}",
        account_id="acct",
        client_id="svc",
        mou_version_id="v1",
        consent_id="c1",
        grant_id="g1",
        endpoint="userinfo",
        claims=["email"],
        released_at=T0 + timedelta(seconds=n if seconds is None else seconds),
    )


LEDGER = [release(n) for n in range(1, 9)]  # at T0 + 1 s ... T0 + 8 s
# Two seals: (-, T0+4s] and (T0+4s, T0+7s]; the release at T0+8s is not sealed yet.
SEALS = [
    (10, seal(None, T0 + timedelta(seconds=4), LEDGER[:4])),
    (20, seal(T0 + timedelta(seconds=4), T0 + timedelta(seconds=7), LEDGER[4:7])),
]


def test_a_seal_holds_count_first_last_and_a_digest_and_survives_its_entry():
    s = SEALS[0][1]
    assert (s.count, s.first, s.last) == (4, "r001", "r004") and len(s.digest) == 64
    assert Seal.from_details(s.details()) == s
    assert seal(None, T0, []).count == 0 and seal(None, T0, []).first is None


def test_every_column_of_a_release_is_covered():
    base = release(1)
    for field, value in [
        ("id", "other"),
        ("account_id", "other"),
        ("client_id", "other"),
        ("mou_version_id", "v2"),
        ("consent_id", None),
        ("grant_id", None),
        ("endpoint", "token"),
        ("claims", ["email", "phone_number"]),
        ("released_at", T0),
    ]:
        assert release_line(replace(base, **{field: value})) != release_line(base), field


def test_a_seal_ends_a_few_seconds_before_it_is_made():
    assert window_until(T0) == T0 - SETTLE


@pytest.mark.parametrize(
    ("name", "ledger", "broken_at", "reason"),
    [
        ("the ledger as sealed", LEDGER, None, None),
        ("a sealed release deleted", LEDGER[:2] + LEDGER[3:], 10, "1 sealed release(s) deleted"),
        ("the newest sealed releases deleted", LEDGER[:5], 20, "2 sealed release(s) deleted"),
        ("every release deleted", [], 10, "4 sealed release(s) deleted"),
        (
            "a release added inside a sealed window",
            sorted([*LEDGER, release(99, seconds=5.5)], key=lambda r: (r.released_at, r.id)),
            20,
            "added",
        ),
        (
            "a sealed release's claims altered",
            [*LEDGER[:5], replace(LEDGER[5], claims=["email", "phone_number"]), *LEDGER[6:]],
            20,
            "altered",
        ),
        (
            "a sealed release moved to another service",
            [replace(LEDGER[0], client_id="elsewhere"), *LEDGER[1:]],
            10,
            "altered",
        ),
        (
            "a sealed release's time moved into the next window",
            [*LEDGER[:3], replace(LEDGER[3], released_at=T0 + timedelta(seconds=4.5)), *LEDGER[4:]],
            10,
            "deleted",
        ),
        (
            "a release added after the last seal (not sealed yet: seconds-long window)",
            [*LEDGER, release(50)],
            None,
            None,
        ),
    ],
)
def test_seals_are_checked_against_the_ledger(name, ledger, broken_at, reason):
    found = check_seals(SEALS, ledger)
    if broken_at is None:
        assert not hasattr(found, "reason"), (name, found)
    else:
        assert found.seq == broken_at and reason in found.reason, (name, found)


def test_what_is_sealed_and_what_is_not_yet():
    found = check_seals(SEALS, [*LEDGER, release(50)])
    assert (found.sealed, found.unsealed) == (7, 2)


def test_a_seal_must_start_where_the_previous_one_ended():
    gap = [SEALS[0], (20, replace(SEALS[1][1], after=T0 + timedelta(seconds=5)))]
    assert check_seals(gap, LEDGER).seq == 20
    removed = [SEALS[1]]  # the first seal's entry is gone: the second no longer starts at the beginning
    assert check_seals(removed, LEDGER).seq == 20
