"""Password rules (pure): at least 8 characters, not common or easy to guess; no composition rules.

NIST SP 800-63B §3.1.1.2: length, a check against known-bad passwords, nothing else. zxcvbn scores
against its built-in lists of common passwords, names, words and keyboard patterns, offline.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 256
MIN_SCORE = 3  # zxcvbn's "safely unguessable" band
ZXCVBN_MAX_INPUT = 100  # zxcvbn is slow on very long input, and long input is strong anyway


def password_problem(password: str, *, email: str = "") -> str | None:
    """What is wrong with a new password, in words for the person, or None."""
    if len(password) < MIN_LENGTH:
        return f"Your password must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"Your password must be {MAX_LENGTH} characters or fewer"
    if email and password.strip().lower() == email.strip().lower():
        return "Your password must not be your email address"
    inputs = [part for part in email.lower().replace("@", ".").split(".") if part]
    if zxcvbn(password[:ZXCVBN_MAX_INPUT], user_inputs=inputs)["score"] < MIN_SCORE:
        return "Enter a password that is harder to guess: avoid common words, names and dates (three random words work well)"
    return None
