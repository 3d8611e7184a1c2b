"""What a relying service's answer to a back-channel notice means (OIDC Back-Channel Logout 1.0 §2.8,
RFC 8935 §2.2-2.3): delivered, refused for good, or tried again with back-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from broker.oidc.backchannel_policy import (
    MAX_ATTEMPTS,
    Attempt,
    Decision,
    Outcome,
    decide,
    is_refusal,
    retry_delay,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", [200, 202, 204])
def test_a_success_status_is_delivered(status):
    assert decide(Attempt(status=status), 1, NOW) == Decision(Outcome.DELIVERED)
    assert decide(Attempt(status=status), MAX_ATTEMPTS, NOW).outcome is Outcome.DELIVERED


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 410, 413, 415, 422, 499])
def test_a_refusal_is_given_up_at_once_whatever_the_attempt(status):
    decision = decide(Attempt(status=status), 1, NOW)
    assert decision == Decision(Outcome.REFUSED, retry_at=None, error=f"HTTP {status}")


@pytest.mark.parametrize(
    "attempt",
    [
        Attempt(status=500),
        Attempt(status=502),
        Attempt(status=503),
        Attempt(status=504),  # the service signed out locally but not downstream: idempotent, so again
        Attempt(status=429),
        Attempt(status=408),
        Attempt(status=302),  # a redirect is not followed; the operator may fix the URI
        Attempt(status=201),
        Attempt(failure="ConnectTimeout"),
        Attempt(failure="ReadTimeout"),
        Attempt(failure="ConnectError"),
        Attempt(failure="OutboundRefused"),  # a name may resolve elsewhere later
        Attempt(),
    ],
)
def test_not_now_is_retried_with_back_off_until_the_attempts_run_out(attempt):
    decision = decide(attempt, 1, NOW)
    assert decision.outcome is None
    assert decision.retry_at == NOW + timedelta(seconds=5)
    assert decision.error == attempt.error
    assert decide(attempt, MAX_ATTEMPTS - 1, NOW).outcome is None
    last = decide(attempt, MAX_ATTEMPTS, NOW)
    assert last == Decision(Outcome.FAILED_AFTER_RETRIES, retry_at=None, error=attempt.error)


@pytest.mark.parametrize(
    ("status", "refused"),
    [(399, False), (400, True), (407, True), (408, False), (429, False), (451, True), (500, False)],
)
def test_only_a_4xx_other_than_not_now_is_a_refusal(status, refused):
    assert is_refusal(status) is refused


def test_errors_name_the_status_or_the_failure_never_more():
    assert Attempt(status=503).error == "HTTP 503"
    assert Attempt(failure="ConnectTimeout").error == "ConnectTimeout"
    assert Attempt().error == "no answer"


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(0, 5), (1, 5), (2, 10), (3, 20), (10, 2560), (11, 3600), (40, 3600)]
)
def test_back_off_doubles_from_five_seconds_up_to_an_hour(attempts, seconds):
    assert retry_delay(attempts) == timedelta(seconds=seconds)


def test_the_attempt_limit_can_be_chosen():
    assert decide(Attempt(status=503), 2, NOW, max_attempts=2).outcome is Outcome.FAILED_AFTER_RETRIES
