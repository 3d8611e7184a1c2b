"""Throttling policy (pure): failures within a window start a temporary block, never a permanent one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from broker.accounts.throttle import CODE_PER_ACCOUNT_ADDRESS, Counter, after_failure, blocked_until

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def fail_times(n, start=NOW, step=MINUTE, counter=None):
    for i in range(n):
        counter = after_failure(counter, CODE_PER_ACCOUNT_ADDRESS, start + i * step)
    return counter


def test_sixth_failure_starts_a_fifteen_minute_block():
    assert blocked_until(fail_times(5), NOW + 5 * MINUTE) is None
    counter = fail_times(6)
    assert blocked_until(counter, NOW + 5 * MINUTE) == NOW + 5 * MINUTE + 15 * MINUTE


def test_the_block_ends_and_counting_starts_afresh():
    counter = fail_times(6)
    after = NOW + 21 * MINUTE
    assert blocked_until(counter, after) is None
    assert after_failure(counter, CODE_PER_ACCOUNT_ADDRESS, after) == Counter(1, after, None)


def test_failures_during_a_block_do_not_extend_it():
    counter = fail_times(6)
    until = blocked_until(counter, NOW + 6 * MINUTE)
    for i in range(50):
        counter = after_failure(
            counter, CODE_PER_ACCOUNT_ADDRESS, NOW + 6 * MINUTE + i * timedelta(seconds=1)
        )
    assert blocked_until(counter, NOW + 6 * MINUTE) == until


def test_failures_spread_beyond_the_window_never_block():
    counter = fail_times(30, step=timedelta(minutes=4))  # one failure every 4 minutes
    assert blocked_until(counter, NOW + 200 * MINUTE) is None


def test_a_failure_during_a_block_is_refused_unless_it_reached_the_limit():
    from broker.accounts.throttle import refused_until, started_block

    fifth, sixth = fail_times(5), fail_times(6)
    assert not started_block(fifth, CODE_PER_ACCOUNT_ADDRESS) and started_block(
        sixth, CODE_PER_ACCOUNT_ADDRESS
    )
    assert refused_until(sixth, CODE_PER_ACCOUNT_ADDRESS, NOW + 5 * MINUTE) is None  # the last one allowed
    seventh = after_failure(sixth, CODE_PER_ACCOUNT_ADDRESS, NOW + 6 * MINUTE)
    assert refused_until(seventh, CODE_PER_ACCOUNT_ADDRESS, NOW + 6 * MINUTE) == sixth.blocked_until


def test_the_database_counts_as_the_policy_does(session_factory):
    """The one-statement upsert and the pure policy agree, step by step, through a block and after."""
    from broker.accounts.throttle import Throttle

    steps = [NOW + i * MINUTE for i in range(8)] + [NOW + 30 * MINUTE, NOW + 31 * MINUTE, NOW + 60 * MINUTE]
    expected = None
    with session_factory() as db:
        throttle = Throttle(db)
        for at in steps:
            expected = after_failure(expected, CODE_PER_ACCOUNT_ADDRESS, at)
            assert throttle.count(CODE_PER_ACCOUNT_ADDRESS, "someone", at) == expected, at
            db.commit()
        assert throttle.check(CODE_PER_ACCOUNT_ADDRESS, "someone", NOW + 60 * MINUTE) is None
        throttle.succeed(CODE_PER_ACCOUNT_ADDRESS, "someone")
        assert throttle.count(CODE_PER_ACCOUNT_ADDRESS, "someone", NOW) == Counter(1, NOW, None)


# Security codes: which limit refuses an attempt (``code_entry_refused``). Counters are (failures, blocked
# for how many more minutes or None); "-" is no counter at all.
def _counter(spec):
    if spec == "-":
        return None
    failures, minutes = spec
    return Counter(failures, NOW - MINUTE, NOW + minutes * MINUTE if minutes is not None else None)


CODE_RULES = [
    # address, account from address, account everywhere -> refused by
    ("-", "-", "-", None),  # a first attempt
    ((5, None), (5, None), (29, None), None),  # near every limit, at none
    ("-", "-", (6, None), None),  # the owner's fresh address, after a stranger's six wrong codes
    ((3, None), (6, 15), (12, None), "code-account-address"),  # this address, at this account
    ((6, None), "-", (6, None), None),  # an address blocked at another account only: still free here
    ((50, 15), "-", "-", "code-address"),  # an address guessing at many accounts
    ("-", "-", (30, 15), "code-account"),  # codes from many addresses reached the ceiling
    ((50, 15), (6, 15), (30, 15), "code-address"),  # the address's own limits are named first
    ("-", (6, 0), "-", None),  # a block that has just ended
]


@pytest.mark.parametrize(("address", "pair", "account", "refused_by"), CODE_RULES)
def test_code_entry_is_refused_by_the_address_first_and_the_account_only_at_its_ceiling(
    address, pair, account, refused_by
):
    from broker.accounts.throttle import CodeCounts, code_entry_refused

    counts = CodeCounts(address=_counter(address), account_address=_counter(pair), account=_counter(account))
    refused = code_entry_refused(counts, NOW)
    assert (refused[0].name if refused else None) == refused_by
    if refused:
        assert refused[1] > NOW


def test_the_account_ceiling_is_far_above_one_address_limit():
    from broker.accounts.throttle import CODE_PER_ACCOUNT

    assert CODE_PER_ACCOUNT_ADDRESS.max_failures == 6
    assert CODE_PER_ACCOUNT.max_failures >= 5 * CODE_PER_ACCOUNT_ADDRESS.max_failures
