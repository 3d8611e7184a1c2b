"""Throttling and lockout. The policy is pure; the counters live in the shared database.

Blocks are temporary and counters forget after their window, so nobody can lock another person out
for good: the worst a stranger can do is make them wait out one block.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from broker.errors import PageError
from broker.store.models import ThrottleCounter


@dataclass(frozen=True)
class Limit:
    name: str
    max_failures: int
    window: timedelta
    block: timedelta


PASSWORD_PER_ACCOUNT = Limit("password-account", 6, timedelta(minutes=15), timedelta(minutes=15))
PASSWORD_PER_ADDRESS = Limit("password-address", 50, timedelta(minutes=15), timedelta(minutes=15))
CODE_PER_ACCOUNT = Limit("code-account", 6, timedelta(minutes=15), timedelta(minutes=15))
CODE_PER_ADDRESS = Limit("code-address", 50, timedelta(minutes=15), timedelta(minutes=15))
CODE_SENDS_PER_ACCOUNT = Limit("code-send-account", 10, timedelta(hours=1), timedelta(hours=1))


@dataclass(frozen=True)
class Counter:
    failures: int
    window_start: datetime
    blocked_until: datetime | None


def blocked_until(counter: Counter | None, now: datetime) -> datetime | None:
    if counter and counter.blocked_until and counter.blocked_until > now:
        return counter.blocked_until
    return None


def after_failure(counter: Counter | None, limit: Limit, now: datetime) -> Counter:
    """Count one failure; reaching the limit starts a block and a fresh count."""
    if counter is not None and blocked_until(counter, now):
        return counter  # attempts during a block are refused, and never extend it
    if counter is None or counter.blocked_until is not None or now - counter.window_start > limit.window:
        counter = Counter(0, now, None)  # a block has ended or the window has passed: count afresh
    failures = counter.failures + 1
    if failures >= limit.max_failures:
        return Counter(0, now, now + limit.block)
    return Counter(failures, counter.window_start, counter.blocked_until)


class Locked(PageError):
    status = 429
    code = "locked"
    title = "You have tried too many times"

    def __init__(self, until: datetime, now: datetime, what: str) -> None:
        minutes = max(1, -(-int((until - now).total_seconds()) // 60))
        super().__init__(f"For your security, {what} is blocked. Try again in {minutes} minutes.")
        self.until = until


def _key(limit: Limit, subject: str) -> str:
    return f"{limit.name}:{hashlib.sha256(subject.encode()).hexdigest()}"


class Throttle:
    def __init__(self, db: Session) -> None:
        self.db = db

    def _load(self, limit: Limit, subject: str) -> tuple[ThrottleCounter | None, Counter | None]:
        row = self.db.get(ThrottleCounter, _key(limit, subject))
        return row, Counter(row.failures, row.window_start, row.blocked_until) if row else None

    def check(self, limit: Limit, subject: str | None, now: datetime) -> datetime | None:
        """When this subject is blocked under this limit, until when."""
        if not subject:
            return None
        return blocked_until(self._load(limit, subject)[1], now)

    def fail(self, limit: Limit, subject: str | None, now: datetime) -> datetime | None:
        """Record a failure; returns the end of the block it started, if it started one."""
        if not subject:
            return None
        row, counter = self._load(limit, subject)
        new = after_failure(counter, limit, now)
        if row is None:
            row = ThrottleCounter(key=_key(limit, subject), failures=0, window_start=now)
            self.db.add(row)
        row.failures, row.window_start, row.blocked_until = new.failures, new.window_start, new.blocked_until
        self.db.flush()
        return new.blocked_until

    def succeed(self, limit: Limit, subject: str | None) -> None:
        if subject:
            self.db.execute(delete(ThrottleCounter).where(ThrottleCounter.key == _key(limit, subject)))
