"""Accounts: create one, and check a password (without revealing whether the account exists).

A password hash takes tens of milliseconds, so it runs with no database transaction open: on
SQLite every transaction holds the one write lock, and a hash inside one would stop every other
request that writes (and, queued behind it, the rest). Callers commit what they have first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.accounts.passwords import PasswordService
from broker.errors import BrokerError
from broker.store.models import Account

EMAIL_LENGTH: int = Account.__table__.c.email.type.length  # type: ignore[attr-defined]


def fits(value: str, length: int) -> bool:
    """Text a column can hold: at most ``length`` characters, and no NUL (PostgreSQL refuses it)."""
    return len(value) <= length and "\x00" not in value


def close_transaction(db: Session) -> None:
    """Commit what is pending, so that the slow hash that follows runs with no transaction open."""
    db.commit()


class AccountExists(BrokerError):
    code = "account_exists"
    title = "An account with this email address already exists"


def normalise_email(email: str) -> str:
    return email.strip().lower()


class AccountService:
    def __init__(self, db: Session, passwords: PasswordService) -> None:
        self.db = db
        self.passwords = passwords

    def by_email(self, email: str) -> Account | None:
        return self.db.scalars(
            select(Account).where(func.lower(Account.email) == normalise_email(email))
        ).first()

    def _hash(self, password: str) -> str:
        if self.db.in_transaction():
            raise RuntimeError("commit before hashing a password: a transaction is open")
        return self.passwords.hash(password)

    def create(self, email: str, password: str, *, verified: bool, now: datetime) -> Account:
        password_hash = self.passwords.hash(password)  # before the first query of a new session
        if self.by_email(email) is not None:
            raise AccountExists()
        account = Account(
            email=normalise_email(email), email_verified=verified, password_hash=password_hash, created_at=now
        )
        self.db.add(account)
        self.db.flush()
        return account

    def set_password(self, account: Account, password: str) -> None:
        account.password_hash = self._hash(password)

    def password_matches(self, account: Account | None, password: str) -> bool:
        """True when ``password`` is the account's; rehashed when the parameters changed. With no
        account, spends the same time and says no."""
        if self.db.in_transaction():
            raise RuntimeError("commit before checking a password: a transaction is open")
        stored = account.password_hash if account else None
        matches = self.passwords.verify(stored, password)  # first, so no account costs the same
        if account is None or not matches:
            return False
        if stored and self.passwords.needs_rehash(stored):
            account.password_hash = self.passwords.hash(password)
        return True
