"""Password rules: length and guessability only (NIST SP 800-63B §3.1.1.2)."""

from __future__ import annotations

import pytest

from broker.accounts.policy import password_problem


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8 characters"),
        ("password", "harder to guess"),
        ("password1", "harder to guess"),
        ("qwertyuiop", "harder to guess"),
        ("Summer2024!", "harder to guess"),  # a breached pattern: season and year
        ("letmein123", "harder to guess"),
        ("jane.doe@example.org", "not be your email"),
        ("x" * 257, "256 characters or fewer"),
    ],
)
def test_refused(password, problem):
    assert problem in (password_problem(password, email="jane.doe@example.org") or "")


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "a long passphrase",
        "Tr0ub4dor&3",
        "velvet-otter-cabbage",
        "x7#Qk2!pLm9z",
    ],
)
def test_accepted_without_composition_rules(password):
    assert password_problem(password, email="jane.doe@example.org") is None
