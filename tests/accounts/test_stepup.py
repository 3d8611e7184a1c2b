"""Step-up's rule: who may skip the password on the way to a page that needs more."""

from __future__ import annotations

from datetime import timedelta

import pytest

from broker.accounts.stepup import Step, step_up

RECENT = timedelta(minutes=15)
MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("level", "signed_in_for", "recent_within", "expected"),
    [
        # No live session: sign in from the start.
        (None, None, None, Step.SIGN_IN),
        (None, None, RECENT, Step.SIGN_IN),
        # The password alone, for a page any sign-in will do: only the second factor.
        ("Cl", MINUTE, None, Step.SECOND_FACTOR),
        ("Cl", timedelta(hours=5), None, Step.SECOND_FACTOR),
        # ... for a page that needs a recent sign-in: the second factor while it is recent.
        ("Cl", MINUTE, RECENT, Step.SECOND_FACTOR),
        ("Cl", RECENT, RECENT, Step.SECOND_FACTOR),
        ("Cl", RECENT + timedelta(seconds=1), RECENT, Step.SIGN_IN),
        # Two factors already and still sent to sign in: it is too old, so all of it again.
        ("Cl.Cm", MINUTE, None, Step.SIGN_IN),
        ("Cl.Cm", timedelta(minutes=16), RECENT, Step.SIGN_IN),
        ("Cm.Cl", MINUTE, RECENT, Step.SIGN_IN),
    ],
)
def test_step_up(
    level: str | None, signed_in_for: timedelta | None, recent_within: timedelta | None, expected: Step
) -> None:
    assert step_up(level, signed_in_for, recent_within) is expected
