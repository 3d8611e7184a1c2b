"""Throttling and lockout. The policy is pure; the counters live in the shared database.

Every count is one atomic statement (an upsert that returns the new count), so concurrent guesses on
several broker instances each see the others, and the decision is made from the count returned.

Password guesses: six wrong from one address at one account in 15 minutes block that address from
that account for 15 minutes (``PASSWORD_PER_ACCOUNT_ADDRESS``); fifty from one address at any
accounts block the address (``PASSWORD_PER_ADDRESS``). Guesses at one account from everywhere are
counted too (``PASSWORD_PER_ACCOUNT``, much looser), but reaching that limit never refuses anyone:
it guards the account, so that for 15 minutes the right password always goes on to a second factor,
even for a service that asked for a password alone. So nobody can lock another person out: a
stranger only blocks their own address, and the owner signs in from theirs.

Security codes (the second factor, and codes sent to prove an address) follow the same pattern, so that
someone who has the password cannot lock the owner out of their second factor: six wrong codes for one
account from one address in 15 minutes block that address from entering codes for that account
(``CODE_PER_ACCOUNT_ADDRESS``), and fifty from one address for any accounts block the address
(``CODE_PER_ADDRESS``). The account-wide ceiling, against guessing spread over many addresses, is five
times the per-address limit (``CODE_PER_ACCOUNT``), and it is counted for each way of getting codes
apart: when guessing at the main one reaches it, the owner still signs in with their backup method or a
passkey, or recovers the account. :func:`code_entry_refused` is the rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, literal, or_, select
from sqlalchemy.orm import Session

from broker.accounts.text import N_
from broker.errors import PageError
from broker.store.base import UTCDateTime
from broker.store.db import upsert_insert
from broker.store.models import ThrottleCounter


@dataclass(frozen=True)
class Limit:
    name: str
    max_failures: int
    window: timedelta
    block: timedelta


PASSWORD_PER_ACCOUNT_ADDRESS = Limit(
    "password-account-address", 6, timedelta(minutes=15), timedelta(minutes=15)
)
# Never refuses: reaching it guards the account (a second factor is always asked for).
PASSWORD_PER_ACCOUNT = Limit("password-account", 100, timedelta(minutes=15), timedelta(minutes=15))
PASSWORD_PER_ADDRESS = Limit("password-address", 50, timedelta(minutes=15), timedelta(minutes=15))
CODE_PER_ACCOUNT_ADDRESS = Limit("code-account-address", 6, timedelta(minutes=15), timedelta(minutes=15))
# The ceiling against guessing from many addresses: reached only by five addresses' worth of guesses, and
# counted per way of getting codes (see ``accounts.codes.backup``), so it never closes every way in.
CODE_PER_ACCOUNT = Limit("code-account", 30, timedelta(minutes=15), timedelta(minutes=15))
CODE_PER_ADDRESS = Limit("code-address", 50, timedelta(minutes=15), timedelta(minutes=15))
CODE_SENDS_PER_ACCOUNT = Limit("code-send-account", 10, timedelta(hours=1), timedelta(hours=1))
# Identity documents looked up with their issuing authorities, per account over a day, whatever the
# attempt (starting again does not start the count again): enough to correct typing mistakes, never
# enough to trawl the authorities for which document numbers, names and dates exist.
DOCUMENT_LOOKUPS_PER_ACCOUNT = Limit("document-lookup-account", 9, timedelta(days=1), timedelta(days=1))


@dataclass(frozen=True)
class Counter:
    failures: int
    window_start: datetime
    blocked_until: datetime | None


def blocked_until(counter: Counter | None, now: datetime) -> datetime | None:
    if counter and counter.blocked_until and counter.blocked_until > now:
        return counter.blocked_until
    return None


def is_stale(counter: Counter, limit: Limit, now: datetime) -> bool:
    """A block has ended, or (with no block) the window has passed: count afresh."""
    if counter.blocked_until is not None:
        return counter.blocked_until <= now
    return now - counter.window_start > limit.window


def after_failure(counter: Counter | None, limit: Limit, now: datetime) -> Counter:
    """Count one failure; reaching the limit starts a block. Counts during a block never extend it.
    :meth:`Throttle.count` does the same in one SQL statement."""
    if counter is None or is_stale(counter, limit, now):
        counter = Counter(0, now, None)
    failures = counter.failures + 1
    until = counter.blocked_until
    if until is None and failures >= limit.max_failures:
        until = now + limit.block
    return Counter(failures, counter.window_start, until)


def started_block(counter: Counter | None, limit: Limit) -> bool:
    """This count is the one that reached the limit (each count in a window is returned once)."""
    return (
        counter is not None and counter.blocked_until is not None and counter.failures == limit.max_failures
    )


def refused_until(counter: Counter | None, limit: Limit, now: datetime) -> datetime | None:
    """For an attempt counted before it is checked: refused while blocked, except the attempt that
    reached the limit (it is the last one allowed)."""
    if started_block(counter, limit):
        return None
    return blocked_until(counter, now)


@dataclass(frozen=True)
class CodeCounts:
    """The counters one attempt at a security code is checked against."""

    address: Counter | None  # this address, at any account
    account_address: Counter | None  # this account, from this address
    account: Counter | None  # this account's way of getting codes, from every address


def code_entry_refused(counts: CodeCounts, now: datetime) -> tuple[Limit, datetime] | None:
    """Which limit refuses a code attempt now, and until when; None when the attempt may go ahead.
    The address's own limits come first: another address's wrong codes never refuse this one, until
    together they reach the account's ceiling."""
    for limit, counter in (
        (CODE_PER_ADDRESS, counts.address),
        (CODE_PER_ACCOUNT_ADDRESS, counts.account_address),
        (CODE_PER_ACCOUNT, counts.account),
    ):
        until = blocked_until(counter, now)
        if until is not None:
            return limit, until
    return None


# What is blocked, a whole sentence for each; the error page fills in the minutes.
BLOCKED = {
    "signing in": N_("For your security, signing in is blocked. Try again in %(minutes)s minutes."),
    "sending security codes": N_(
        "For your security, sending security codes is blocked. Try again in %(minutes)s minutes."
    ),
    "entering security codes": N_(
        "For your security, entering security codes is blocked. Try again in %(minutes)s minutes."
    ),
    "entering this account's security codes": N_(
        "For your security, entering these security codes for this account is blocked for %(minutes)s "
        "minutes. You can sign in with your backup method or a passkey instead."
    ),
    "checking documents": N_(
        "For your security, checking identity documents is blocked. Try again in %(minutes)s minutes."
    ),
}


class Locked(PageError):
    status = 429
    code = "locked"
    title = N_("You have tried too many times")

    def __init__(self, until: datetime, now: datetime, what: str) -> None:
        """``what`` is one of :data:`BLOCKED`."""
        minutes = max(1, -(-int((until - now).total_seconds()) // 60))
        super().__init__(BLOCKED[what], minutes=minutes)
        self.until = until


def _key(limit: Limit, subject: str) -> str:
    return f"{limit.name}:{hashlib.sha256(subject.encode()).hexdigest()}"


class Throttle:
    def __init__(self, db: Session) -> None:
        self.db = db

    def _load(self, limit: Limit, subject: str) -> Counter | None:
        # A plain row, never the session's cached object: another request may have counted since.
        table = ThrottleCounter.__table__
        row = self.db.execute(
            select(table.c.failures, table.c.window_start, table.c.blocked_until).where(
                table.c.key == _key(limit, subject)
            )
        ).first()
        return Counter(row.failures, row.window_start, row.blocked_until) if row else None

    def counter(self, limit: Limit, subject: str | None) -> Counter | None:
        """This subject's counter under this limit, as stored now."""
        return self._load(limit, subject) if subject else None

    def check(self, limit: Limit, subject: str | None, now: datetime) -> datetime | None:
        """When this subject is blocked under this limit, until when."""
        if not subject:
            return None
        return blocked_until(self._load(limit, subject), now)

    def count(self, limit: Limit, subject: str | None, now: datetime) -> Counter | None:
        """Count one more failure (or attempt), atomically: :func:`after_failure` as one upsert that
        returns the new counter, so concurrent counts never overwrite each other."""
        if not subject:
            return None
        table = ThrottleCounter.__table__
        c = table.c

        def when(value: datetime | None) -> Any:
            return literal(value, UTCDateTime())

        first_block = now + limit.block if limit.max_failures <= 1 else None
        stale = or_(
            and_(c.blocked_until.is_not(None), c.blocked_until <= when(now)),
            and_(c.blocked_until.is_(None), c.window_start < when(now - limit.window)),
        )
        reaches = and_(c.blocked_until.is_(None), c.failures + 1 >= limit.max_failures)
        statement = (
            upsert_insert(self.db)(table)
            .values(key=_key(limit, subject), failures=1, window_start=now, blocked_until=first_block)
            .on_conflict_do_update(
                index_elements=[c.key],
                set_={
                    "failures": case((stale, 1), else_=c.failures + 1),
                    "window_start": case((stale, when(now)), else_=c.window_start),
                    "blocked_until": case(
                        (stale, when(first_block)),
                        (reaches, when(now + limit.block)),
                        else_=c.blocked_until,
                    ),
                },
            )
            .returning(c.failures, c.window_start, c.blocked_until)
        )
        row = self.db.execute(statement).one()
        return Counter(row.failures, row.window_start, row.blocked_until)

    def fail(self, limit: Limit, subject: str | None, now: datetime) -> datetime | None:
        """Record a failure; returns the end of the block it started, if it started one."""
        counter = self.count(limit, subject, now)
        return counter.blocked_until if counter and started_block(counter, limit) else None

    def succeed(self, limit: Limit, subject: str | None) -> None:
        if subject:
            self.db.execute(delete(ThrottleCounter).where(ThrottleCounter.key == _key(limit, subject)))


@dataclass
class PasswordGuess:
    """One password guess at an account (by email) from an address, counted before the slow check
    so that concurrent guesses see each other; the rule is in the module's docstring."""

    throttle: Throttle
    email: str
    address: str | None
    now: datetime
    counted: Counter | None = None

    @property
    def _pair(self) -> str:
        return f"{self.email}\n{self.address or ''}"

    def count(self) -> None:
        """Count the guess; raises :class:`Locked` when this address may not guess now."""
        until = self.throttle.check(PASSWORD_PER_ADDRESS, self.address, self.now)
        if until is None:
            self.counted = self.throttle.count(PASSWORD_PER_ACCOUNT_ADDRESS, self._pair, self.now)
            until = refused_until(self.counted, PASSWORD_PER_ACCOUNT_ADDRESS, self.now)
        if until:
            raise Locked(until, self.now, "signing in")

    def wrong(self) -> list[str]:
        """The guess was wrong: the names of the limits it reached (each is reached once)."""
        reached = (
            [PASSWORD_PER_ACCOUNT_ADDRESS.name]
            if started_block(self.counted, PASSWORD_PER_ACCOUNT_ADDRESS)
            else []
        )
        for limit, subject in ((PASSWORD_PER_ACCOUNT, self.email), (PASSWORD_PER_ADDRESS, self.address)):
            if self.throttle.fail(limit, subject, self.now):
                reached.append(limit.name)
        return reached

    def right(self) -> bool:
        """The guess was right: this address's wrong guesses are forgotten. True when the account is
        guarded (many wrong guesses from everywhere): a second factor is needed, whatever was asked."""
        self.throttle.succeed(PASSWORD_PER_ACCOUNT_ADDRESS, self._pair)
        return self.throttle.check(PASSWORD_PER_ACCOUNT, self.email, self.now) is not None
