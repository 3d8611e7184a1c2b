"""What a relying service's answer to a back-channel notice means, and what the outbox does next.

OIDC Back-Channel Logout 1.0 §2.8: a receiver answers 200 OK when the logout succeeded (some frameworks
turn an empty 200 into 204, which counts too) and 400 Bad Request when the logout token did not
validate. RFC 8935 §2.2-2.3 is alike for pushed security events (202 Accepted, or 400 with an error
code). A 4xx is the service refusing the notice itself: sending it again, freshly signed, cannot help,
so it is given up at once and left to the service's operator. 408 and 429 (not now) and 5xx, a
redirect or no answer at all are retried with back-off; logout is idempotent at the receiver, so a
notice that arrived but whose answer was lost does no harm sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MAX_ATTEMPTS = 12
DELIVERED = frozenset({200, 202, 204})
NOT_NOW = frozenset({408, 429})  # Request Timeout, Too Many Requests


class Outcome(StrEnum):
    """How a notice ended (the metric's label values: no URI, no person)."""

    DELIVERED = "delivered"
    REFUSED = "refused"
    FAILED_AFTER_RETRIES = "failed_after_retries"


@dataclass(frozen=True)
class Attempt:
    """What one POST came to: the status the service answered, or the name of the failure that left
    no answer (``ConnectTimeout``, ``OutboundRefused``), never its text."""

    status: int | None = None
    failure: str | None = None

    @property
    def error(self) -> str:
        return f"HTTP {self.status}" if self.status is not None else self.failure or "no answer"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome | None  # None: the notice is tried again at ``retry_at``
    retry_at: datetime | None = None
    error: str | None = None


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off: 5 s, 10 s, 20 s ... capped at one hour."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 3600))


def is_refusal(status: int) -> bool:
    """The service refused the notice itself: any 4xx but "not now"."""
    return 400 <= status < 500 and status not in NOT_NOW


def decide(attempt: Attempt, attempts: int, now: datetime, max_attempts: int = MAX_ATTEMPTS) -> Decision:
    """What follows an attempt; ``attempts`` counts it."""
    if attempt.status in DELIVERED:
        return Decision(Outcome.DELIVERED)
    if attempt.status is not None and is_refusal(attempt.status):
        return Decision(Outcome.REFUSED, error=attempt.error)
    if attempts >= max_attempts:
        return Decision(Outcome.FAILED_AFTER_RETRIES, error=attempt.error)
    return Decision(None, retry_at=now + retry_delay(attempts), error=attempt.error)
