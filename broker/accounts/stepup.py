"""Step-up: what a person who is already signed in must do again to reach a page that needs more.

A session signed in with the password alone (``Cl``, which a service may ask for) has proven the
password already: it is sent straight to the second factor, and the same session is upgraded. Asking
for the password again would add nothing, except where the page needs a recent sign-in and this one
is older.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class Step(StrEnum):
    SIGN_IN = "password and second factor"
    SECOND_FACTOR = "second factor only"


def step_up(level: str | None, signed_in_for: timedelta | None, recent_within: timedelta | None) -> Step:
    """What the person must do (pure). ``level``: the browser's live session's (None without one);
    ``signed_in_for``: how long ago it was signed in; ``recent_within``: how recent a sign-in the
    page needs (None when any will do)."""
    if level is None or signed_in_for is None:
        return Step.SIGN_IN
    if "Cm" in level.split("."):
        # Two factors already and still sent here: the sign-in is too old, so all of it again.
        return Step.SIGN_IN
    if recent_within is not None and signed_in_for > recent_within:
        return Step.SIGN_IN
    return Step.SECOND_FACTOR
