"""The single sign-on session: created at sign-in, found from its cookie, ended at sign-out."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from broker.config import Settings
from broker.store.fast import Statement, instances
from broker.store.models import Account, BrowserSession

TOUCH_EVERY = timedelta(seconds=60)

LIVE_WITH_ACCOUNT = Statement(
    select(*BrowserSession.__table__.columns, *Account.__table__.columns)
    .join(Account, Account.id == BrowserSession.account_id)
    .where(BrowserSession.secret_hash == bindparam("secret_hash"), BrowserSession.ended_at.is_(None))
)
TOUCH = Statement(
    update(BrowserSession)
    .where(BrowserSession.id == bindparam("id"))
    .values(last_seen_at=bindparam("now", type_=BrowserSession.last_seen_at.type))
)


def cookie_name(settings: Settings, base: str) -> str:
    # __Host- cookies must be Secure; over plain http (development) the prefix cannot be used.
    return f"__Host-{base}" if settings.issuer_is_https else base


def session_cookie(settings: Settings) -> str:
    return cookie_name(settings, "broker-session")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SessionService:
    def __init__(self, db: Session, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        # Accounts read with their session, held for the request (the identity map holds rows weakly),
        # so the next ``db.get(Account, …)`` for that account needs no query.
        self._read_ahead: list[Account] = []

    def start(self, account_id: str, amr: list[str], level: str, now: datetime) -> tuple[BrowserSession, str]:
        """A new session with a new id and secret (never reuse one: prevents fixation)."""
        secret = secrets.token_urlsafe(32)
        row = BrowserSession(
            id=secrets.token_urlsafe(24),
            secret_hash=_hash(secret),
            account_id=account_id,
            auth_time=now,
            amr=amr,
            level=level,
            created_at=now,
            last_seen_at=now,
        )
        self.db.add(row)
        self.db.flush()
        return row, secret

    def rotate(self, session: BrowserSession) -> str:
        """A new secret for this session (after a change to how the person signs in), so a cookie
        copied or fixed before the change no longer works. The ``sid`` services know stays."""
        secret = secrets.token_urlsafe(32)
        session.secret_hash = _hash(secret)
        return secret

    def find(self, secret: str | None, now: datetime) -> BrowserSession | None:
        """The live session this cookie holds, or None when it is unknown, ended, idle or too old."""
        if not secret:
            return None
        found = self.db.execute(
            select(BrowserSession, Account)
            .join(Account, Account.id == BrowserSession.account_id)
            .where(BrowserSession.secret_hash == _hash(secret), BrowserSession.ended_at.is_(None))
        ).first()
        if found is None:
            return None
        row, account = found
        self._read_ahead.append(account)
        if not self._live(row, now):
            return None
        if now - row.last_seen_at > TOUCH_EVERY:
            row.last_seen_at = now
        return row

    def find_for_reading(self, secret: str | None, now: datetime) -> tuple[BrowserSession, Account] | None:
        """``find`` for the authorization endpoint: the live session and its account in one statement,
        as instances outside the ORM session (read them; a change to them is not saved)."""
        if not secret:
            return None
        found = LIVE_WITH_ACCOUNT.first(self.db, secret_hash=_hash(secret))
        if found is None:
            return None
        row, account = instances(found, BrowserSession, Account)
        if not self._live(row, now):
            return None
        if now - row.last_seen_at > TOUCH_EVERY:
            TOUCH.run(self.db, id=row.id, now=now)
            row.last_seen_at = now
        return row, account

    def _live(self, row: BrowserSession, now: datetime) -> bool:
        idle = timedelta(seconds=self.settings.session_idle_ttl)
        oldest = timedelta(seconds=self.settings.session_max_ttl)
        return now - row.last_seen_at <= idle and now - row.created_at <= oldest

    def end(self, session_id: str, now: datetime) -> bool:
        ended = self.db.execute(
            update(BrowserSession)
            .where(BrowserSession.id == session_id, BrowserSession.ended_at.is_(None))
            .values(ended_at=now)
        ).rowcount  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        return bool(ended)

    def end_all(self, account_id: str, now: datetime) -> list[str]:
        """End every live session of an account; returns their ids."""
        ids = list(
            self.db.scalars(
                select(BrowserSession.id).where(
                    BrowserSession.account_id == account_id, BrowserSession.ended_at.is_(None)
                )
            )
        )
        for session_id in ids:
            self.end(session_id, now)
        return ids
