"""Accounts: create one, and check a password (without revealing whether the account exists)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.accounts.passwords import PasswordService
from broker.errors import BrokerError
from broker.store.models import Account


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

    def create(self, email: str, password: str, *, verified: bool, now: datetime) -> Account:
        if self.by_email(email) is not None:
            raise AccountExists()
        account = Account(
            email=normalise_email(email),
            email_verified=verified,
            password_hash=self.passwords.hash(password),
            created_at=now,
        )
        self.db.add(account)
        self.db.flush()
        return account

    def authenticate(self, email: str, password: str) -> Account | None:
        account = self.by_email(email)
        ok = self.passwords.verify(account.password_hash if account else None, password)
        if not ok or account is None:
            return None
        if account.password_hash and self.passwords.needs_rehash(account.password_hash):
            account.password_hash = self.passwords.hash(password)
        return account
