""" "A year" and "the last 12 months", calendar-safe (vouching/calendar.py): 29 February steps back to
28 February, the last day of the same month a year earlier."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from vouching.calendar import a_year_before, years_before


@pytest.mark.parametrize(
    ("when", "year_before"),
    [
        (date(2028, 2, 29), date(2027, 2, 28)),  # leap day into a common year: 28 February, not 1 March
        (date(2028, 2, 28), date(2027, 2, 28)),
        (date(2028, 3, 1), date(2027, 3, 1)),
        (date(2029, 3, 1), date(2028, 3, 1)),
        (date(2029, 2, 28), date(2028, 2, 28)),  # a common year back into a leap year: the same day
        (date(2026, 1, 1), date(2025, 1, 1)),
        (date(2026, 12, 31), date(2025, 12, 31)),
        (date(2026, 6, 15), date(2025, 6, 15)),
    ],
)
def test_a_year_before_is_the_same_day_a_calendar_year_earlier(when: date, year_before: date) -> None:
    assert a_year_before(when) == year_before


def test_a_year_before_keeps_the_time_and_zone() -> None:
    now = datetime(2028, 2, 29, 12, 30, 5, tzinfo=UTC)
    assert a_year_before(now) == datetime(2027, 2, 28, 12, 30, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("when", "years", "expected"),
    [
        (date(2028, 2, 29), 4, date(2024, 2, 29)),  # leap year to leap year
        (date(2028, 2, 29), 3, date(2025, 2, 28)),
        (date(2026, 7, 4), 2, date(2024, 7, 4)),
    ],
)
def test_years_before(when: date, years: int, expected: date) -> None:
    assert years_before(when, years) == expected
