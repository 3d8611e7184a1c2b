"""Password rules (pure): at least 8 characters, not common or easy to guess; no composition rules.

NIST SP 800-63B §3.1.1.2: length, a check against known-bad passwords, nothing else. zxcvbn scores
against its built-in lists of common passwords, names, words and keyboard patterns, offline.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

from broker.accounts.text import N_

MIN_LENGTH = 8
MAX_LENGTH = 256
MIN_SCORE = 3  # zxcvbn's "safely unguessable" band
ZXCVBN_MAX_INPUT = 100  # zxcvbn is slow on very long input, and long input is strong anyway


# Whole sentences for the catalogue, shown as they are (the error's template translates them): the
# lengths are constants, so they are written into the words. Keep them in step with the numbers above.
TOO_SHORT = N_("Your password must be at least 8 characters long")
TOO_LONG = N_("Your password must be 256 characters or fewer")


def password_problem(password: str, *, email: str = "") -> str | None:
    """What is wrong with a new password, in words for the person (a catalogue message), or None."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    if email and password.strip().lower() == email.strip().lower():
        return N_("Your password must not be your email address")
    inputs = [part for part in email.lower().replace("@", ".").split(".") if part]
    if zxcvbn(password[:ZXCVBN_MAX_INPUT], user_inputs=inputs)["score"] < MIN_SCORE:
        return N_(
            "Enter a password that is harder to guess: avoid common words, names and dates (three random "
            "words work well)"
        )
    return None
