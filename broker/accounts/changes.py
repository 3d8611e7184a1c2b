"""Changing how a person signs in, from the Security page: their email address, authenticator app,
phone number and backup method.

A change waits for proof that the new thing is theirs (a code sent to the new address or phone, or a
code from the new app), then takes effect in one step. Codes are single-use, expire in 15 minutes and
count against the same limits as every other code (see ``accounts.codes``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from broker.accounts import factors
from broker.accounts.codes import MINUTES, Codes
from broker.accounts.interactions import CODE_TTL
from broker.notify.outbox import Outbox
from broker.store.models import Account, AccountChange, BrowserSession

# What a pending change is about; "app" and "phone" are whichever role the app or phone plays.
KINDS = ("email", "phone", "app", "backup-phone", "backup-app")
BACKUP_METHODS = ("sms", "totp")


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def new_code() -> tuple[str, str]:
    """A 6-digit code and the hash that is stored instead of it."""
    code = f"{secrets.randbelow(10**6):06d}"
    return code, _hash(code)


def code_matches(code_hash: str | None, expires_at: datetime | None, code: str, now: datetime) -> bool:
    if code_hash is None or expires_at is None or expires_at <= now:
        return False
    return hmac.compare_digest(code_hash, _hash(code.strip().replace(" ", "")))


def uses_app(account: Account) -> bool:
    return factors.method_of(account) == "totp" or account.backup_method == "totp"


def uses_phone(account: Account) -> bool:
    return factors.method_of(account) == "sms" or account.backup_method == "sms"


def backup_choices(account: Account) -> list[str]:
    """The ways a backup can work: text message or an app, never the same as the main method."""
    return [method for method in BACKUP_METHODS if method != factors.method_of(account)]


class AccountChanges:
    """Pending changes of one browser session, and the codes that prove them."""

    def __init__(self, db: Session, now: datetime, client_address: str | None) -> None:
        self.db = db
        self.now = now
        self.codes = Codes(db, now, client_address)

    def pending(self, session: BrowserSession, kind: str) -> AccountChange | None:
        return self.db.scalars(
            select(AccountChange).where(
                AccountChange.session_id == session.id,
                AccountChange.kind == kind,
                AccountChange.expires_at > self.now,
            )
        ).first()

    def start(self, session: BrowserSession, kind: str, **values: str) -> AccountChange:
        """A new pending change of this kind, replacing any earlier one in this session."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind of change: {kind}")
        self.db.execute(  # this one replaces any earlier of its kind; the account's expired ones go
            delete(AccountChange).where(
                AccountChange.account_id == session.account_id,
                or_(
                    AccountChange.expires_at <= self.now,
                    and_(AccountChange.session_id == session.id, AccountChange.kind == kind),
                ),
            )
        )
        change = AccountChange(
            id=secrets.token_urlsafe(24),
            account_id=session.account_id,
            session_id=session.id,
            kind=kind,
            created_at=self.now,
            expires_at=self.now + CODE_TTL,
            **values,
        )
        self.db.add(change)
        self.db.flush()
        return change

    def send_code(self, change: AccountChange, channel: str, recipient: str, template: str) -> None:
        """Send the code to the new address or phone. Sends count against the account and the
        recipient, so neither can be flooded."""
        self._count_sends(change, recipient)
        code, change.otp_hash = new_code()
        change.otp_expires_at = self.now + CODE_TTL
        outbox = Outbox(self.db)
        send = outbox.send_sms if channel == "sms" else outbox.send_email
        send(recipient, template, {"code": code, "minutes": MINUTES}, self.now)

    def send_notice(self, change: AccountChange, recipient: str, template: str) -> None:
        """Send a message with no code (the address already has an account), and arm the check with a
        code nobody has, so the journey looks and counts the same either way."""
        self._count_sends(change, recipient)
        _, change.otp_hash = new_code()
        change.otp_expires_at = self.now + CODE_TTL
        Outbox(self.db).send_email(recipient, template, {}, self.now)

    def _count_sends(self, change: AccountChange, recipient: str) -> None:
        self.codes.count_send(change.account_id)
        self.codes.count_send(recipient)

    def check_code(self, change: AccountChange, code: str) -> bool:
        """One attempt at the code sent for this change; a code works once."""

        def matches() -> bool:
            if code_matches(change.otp_hash, change.otp_expires_at, code, self.now):
                change.otp_hash = None
                return True
            return False

        return self.codes.attempt(change.account_id, change.account_id, matches)

    def check_app(self, change: AccountChange, code: str) -> int | None:
        """The time step of a code from the new app, or None (an attempt like any other code)."""
        found: list[int] = []

        def matches() -> bool:
            step = factors.totp_step(change.new_totp_secret or "", code, self.now, None)
            if step is not None:
                found.append(step)
            return step is not None

        return found[0] if self.codes.attempt(change.account_id, change.account_id, matches) else None

    def done(self, change: AccountChange) -> None:
        self.db.delete(change)


def change_email(db: Session, account: Account, new_email: str, now: datetime) -> None:
    """The new address (already proven) replaces the old one, which is told."""
    old, account.email, account.email_verified = account.email, new_email, True
    Outbox(db).send_email(old, "email_changed", {}, now)


def change_phone(account: Account, new_phone: str) -> None:
    account.phone_number, account.phone_number_verified = new_phone, True


def change_app(account: Account, secret: str, step: int) -> None:
    """The new app's secret replaces the old one, which stops working at once."""
    account.totp_secret, account.totp_last_step = secret, step


def main_choices(account: Account) -> list[str]:
    """What someone who gets codes by email can move to: text message or an app, whichever is not
    already their backup (nothing for someone who uses a phone or an app already: they change it)."""
    if factors.method_of(account) != "email":
        return []
    return [method for method in BACKUP_METHODS if method != account.backup_method]


def set_main_method(account: Account, method: str) -> None:
    """Codes by ``method`` from now on, instead of by email."""
    if method not in main_choices(account):
        raise ValueError(f"the way to get codes must be one of {main_choices(account)}")
    account.mfa_method = method


def set_backup(account: Account, method: str) -> None:
    """``method`` becomes the backup; what the previous backup used is forgotten."""
    if method not in backup_choices(account):
        raise ValueError(f"a backup method must be one of {backup_choices(account)}")
    if account.backup_method and account.backup_method != method:
        remove_backup(account)
    account.backup_method = method


def remove_backup(account: Account) -> None:
    """No backup any more, and its phone number or app secret is forgotten (the main method never
    uses them: a backup is always the other kind)."""
    if account.backup_method == "sms":
        account.phone_number, account.phone_number_verified = None, False
    elif account.backup_method == "totp":
        account.totp_secret = account.totp_last_step = None
    account.backup_method = None
