"""Throttling policy (pure): failures within a window start a temporary block, never a permanent one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from broker.accounts.throttle import CODE_PER_ACCOUNT, Counter, after_failure, blocked_until

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def fail_times(n, start=NOW, step=MINUTE, counter=None):
    for i in range(n):
        counter = after_failure(counter, CODE_PER_ACCOUNT, start + i * step)
    return counter


def test_sixth_failure_starts_a_fifteen_minute_block():
    assert blocked_until(fail_times(5), NOW + 5 * MINUTE) is None
    counter = fail_times(6)
    assert blocked_until(counter, NOW + 5 * MINUTE) == NOW + 5 * MINUTE + 15 * MINUTE


def test_the_block_ends_and_counting_starts_afresh():
    counter = fail_times(6)
    after = NOW + 21 * MINUTE
    assert blocked_until(counter, after) is None
    assert after_failure(counter, CODE_PER_ACCOUNT, after) == Counter(1, after, None)


def test_failures_during_a_block_do_not_extend_it():
    counter = fail_times(6)
    until = blocked_until(counter, NOW + 6 * MINUTE)
    for i in range(50):
        counter = after_failure(counter, CODE_PER_ACCOUNT, NOW + 6 * MINUTE + i * timedelta(seconds=1))
    assert blocked_until(counter, NOW + 6 * MINUTE) == until


def test_failures_spread_beyond_the_window_never_block():
    counter = fail_times(30, step=timedelta(minutes=4))  # one failure every 4 minutes
    assert blocked_until(counter, NOW + 200 * MINUTE) is None
