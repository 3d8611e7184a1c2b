"""How long, and what kind of, text the broker accepts: each bound read from the column that stores it.

A text field is bounded where its column is declared (``String(200)`` in ``broker/store/models``);
pages and commands ask :func:`column_length` rather than repeating the number. Text that has no
column of its own length (a ``Text`` column, or text kept in JSON) is held to :data:`FREE_TEXT`,
and anything a person types that is not stored as typed to :data:`SHORT_TEXT`.

PostgreSQL refuses a NUL byte in text, and a string longer than its column, with an error the page
would show as a 500: :func:`text_problem` says so first.
"""

from __future__ import annotations

import re
from enum import StrEnum

from sqlalchemy.orm import InstrumentedAttribute

# Long enough for a JWKS with a few RSA keys, an agreement's purpose, a list of redirect URIs; far
# below the request size limit (broker/hardening.py MAX_BODY_BYTES).
FREE_TEXT = 20_000
# A line a person types that is not stored as typed (a password, a security code, a passport line).
SHORT_TEXT = 1_000
# One line of an address (building, street, town, postcode), kept in JSON (``VouchRequest.address``).
ADDRESS_LINE = 200
# A number typed as text: a year, a day, a count of years. Python's int() refuses over 4,300 digits.
NUMBER = 20

# C0 control characters other than tab, line feed and carriage return (textareas send those), and DEL.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Problem(StrEnum):
    CONTROL = "control character"
    TOO_LONG = "too long"
    NOT_ASCII_DIGITS = "digits other than 0 to 9"


def column_length(attribute: InstrumentedAttribute[str] | InstrumentedAttribute[str | None]) -> int:
    """The length of a model's text column (``Model.__table__.c.name.type.length``); FREE_TEXT for a
    column of unbounded ``Text``."""
    column = attribute.property.columns[0]  # type: ignore[attr-defined]
    length = getattr(column.type, "length", None)
    return int(length) if length else FREE_TEXT


def text_problem(value: str, limit: int) -> Problem | None:
    """What is wrong with ``value`` as text of at most ``limit`` characters (pure): None when nothing."""
    if CONTROL.search(value):
        return Problem.CONTROL
    if len(value) > limit:
        return Problem.TOO_LONG
    return None


def number_problem(value: str) -> Problem | None:
    """What is wrong with ``value`` as a number typed in ASCII digits (spaces around it are allowed;
    whether it is a number at all is the page's question). ``int('١٢٣')`` is 123 and ``'１２'.isdigit()``
    is true: other scripts' digits are refused here rather than read as a different number."""
    problem = text_problem(value, NUMBER)
    if problem is not None:
        return problem
    if any(ch.isdigit() or ch.isnumeric() for ch in value if not ch.isascii()):
        return Problem.NOT_ASCII_DIGITS
    return None
