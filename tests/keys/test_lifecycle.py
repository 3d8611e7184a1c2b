"""The key life cycle as pure plans: next → current → retired → removed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from keys.lifecycle import (
    NEXT_KEY_MIN_AGE,
    KeyState,
    Plan,
    plan_ensure,
    plan_retire,
    plan_rotation,
    removable,
)

NOW = datetime(2026, 11, 23, tzinfo=UTC)
HOUR = timedelta(hours=1)


def key(kid, state, alg="ES256", retired_ago=None):
    return KeyState(kid, alg, state, NOW - 10 * HOUR, NOW - retired_ago if retired_ago is not None else None)


@pytest.mark.parametrize(
    ("keys", "plan"),
    [
        ([], Plan(create_current=True, create_next=True)),
        ([key("c", "current")], Plan(create_next=True)),
        ([key("n", "next")], Plan(promote="n", create_next=True)),
        ([key("c", "current"), key("n", "next")], Plan()),
        ([key("c", "current", alg="RS256")], Plan(create_current=True, create_next=True)),
    ],
)
def test_ensure(keys, plan):
    assert plan_ensure(keys, "ES256") == plan


@pytest.mark.parametrize(
    ("keys", "plan"),
    [
        ([key("c", "current"), key("n", "next")], Plan(retire="c", promote="n", create_next=True)),
        (
            [
                key("c", "current"),
                key("n", "next"),
                key("old", "retired", retired_ago=2 * HOUR),
                key("recent", "retired", retired_ago=HOUR / 2),
            ],
            Plan(retire="c", promote="n", create_next=True, remove=("old",)),
        ),
        ([key("c", "current")], Plan(create_next=True)),  # never sign with an unpublished key
        ([], Plan(create_next=True, create_current=True)),
        ([key("n", "next")], Plan(promote="n", create_next=True)),
    ],
)
def test_rotation(keys, plan):
    assert plan_rotation(keys, "ES256", NOW, HOUR) == plan


def test_rotation_waits_until_cached_jwks_copies_hold_the_next_key():
    current = key("c", "current")
    young = KeyState("n", "ES256", "next", NOW - NEXT_KEY_MIN_AGE + timedelta(seconds=1))
    old_enough = KeyState("n", "ES256", "next", NOW - NEXT_KEY_MIN_AGE)
    refused = plan_rotation([current, young], "ES256", NOW, HOUR)
    assert not refused.changes_anything
    assert refused.refused and "359 s ago" in refused.refused and "360 s" in refused.refused
    promoted = Plan(retire="c", promote="n", create_next=True)
    assert plan_rotation([current, old_enough], "ES256", NOW, HOUR) == promoted
    assert plan_rotation([current, young], "ES256", NOW, HOUR, force=True) == promoted
    # Retiring a current key is an emergency: it does not wait either.
    assert plan_retire([current, young], "c", NOW, HOUR) == promoted


def test_retire():
    keys = [key("c", "current"), key("n", "next"), key("r", "retired", retired_ago=HOUR / 2)]
    assert plan_retire(keys, "c", NOW, HOUR) == Plan(retire="c", promote="n", create_next=True)
    assert plan_retire(keys, "n", NOW, HOUR) == Plan(retire="n", create_next=True)
    assert plan_retire(keys, "r", NOW, HOUR) == Plan()
    assert plan_retire(keys, "unknown", NOW, HOUR) == Plan()
    assert not Plan().changes_anything
    # A compromised current key with no successor is replaced at once.
    assert plan_retire([key("c", "current")], "c", NOW, HOUR) == Plan(
        retire="c", create_current=True, create_next=True
    )


def test_removable_waits_for_every_token_to_expire():
    keys = [
        key("a", "retired", retired_ago=HOUR),
        key("b", "retired", retired_ago=HOUR + timedelta(seconds=1)),
        key("c", "current"),
        KeyState("d", "ES256", "retired", NOW, None),
    ]
    assert removable(keys, NOW, HOUR) == ("b",)
