"""Calendar spans the rules speak of ("a year", "the last 12 months"), defined once and safe on
29 February.

"A year before" is the same date and time one calendar year earlier. 29 February has no such date
in a common year, so it steps back to 28 February (the last day still within the same month): a
year before 29 February 2028 is 28 February 2027, never an error and never 1 March, which would
make the year one day short.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeVar

When = TypeVar("When", date, datetime)


def years_before(when: When, years: int) -> When:
    """The same calendar day ``years`` years earlier; 29 February becomes 28 February."""
    try:
        return when.replace(year=when.year - years)
    except ValueError:  # 29 February into a common year
        return when.replace(year=when.year - years, day=28)


def a_year_before(when: When) -> When:
    """The start of "the last 12 months" up to ``when``."""
    return years_before(when, 1)
