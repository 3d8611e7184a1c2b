"""Grants: what a relying service holds for a person, and the one way a grant is revoked.

A grant is what one authorization produced; every token issued from it belongs to it, so revoking the
grant stops its access and refresh tokens at once. Code reuse, refresh replay, token revocation,
sign-out, sign out everywhere, a password reset, withdrawn consent, a dropped identity level and a
deleted account all revoke through :func:`revoke`, each with its reason.

Ending a hold also tells the services: a back-channel logout notice for each session a service took
part in, written to the durable outbox that ``broker.oidc.backchannel`` delivers from.

These functions write to the caller's session and never commit, except :func:`sign_out`, the one
operation a page asks for on its own (RP-initiated logout), which is its own unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from broker.accounts.sessions import SessionService
from broker.config import Settings
from broker.store.models import BackchannelLogout, Client, Grant, SessionClient
from broker.store.unit import unit_of_work

# The reasons kept on a revoked grant (Grant.revoked_reason, at most 64 characters).
CODE_REUSED = "authorization code reused"
REFRESH_REPLAYED = "refresh token replayed"
REFRESH_REVOKED = "refresh token revoked"
LOGOUT = "logout"
CONSENT_WITHDRAWN = "consent withdrawn"
IDENTITY_DROPPED = "identity level dropped"
ACCOUNT_DELETED = "account deleted"

OFFLINE = "offline_access"


def revoke(db: Session, now: datetime, reason: str, *where: ColumnElement[bool]) -> int:
    """Revoke every live grant matching ``where``: the one revoke. A grant already revoked keeps the
    time and reason it was first revoked for. Returns how many were revoked."""
    result = db.execute(
        update(Grant).where(Grant.revoked_at.is_(None), *where).values(revoked_at=now, revoked_reason=reason)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # an UPDATE's CursorResult


def revoke_grant(db: Session, grant_id: str, now: datetime, reason: str) -> None:
    revoke(db, now, reason, Grant.id == grant_id)


def revoke_grants(db: Session, grant_ids: Iterable[str], now: datetime, reason: str) -> None:
    ids = list(grant_ids)
    if ids:
        revoke(db, now, reason, Grant.id.in_(ids))


def revoke_session_grants(db: Session, session_id: str, now: datetime) -> None:
    """The grants a session produced, except offline ones: ``offline_access`` was asked for so that
    the service keeps access after the person signs out (OIDC Core §11)."""
    live = db.execute(
        select(Grant.id, Grant.scope).where(Grant.session_id == session_id, Grant.revoked_at.is_(None))
    ).all()
    revoke_grants(db, (gid for gid, scope in live if OFFLINE not in scope.split()), now, LOGOUT)


def revoke_account_grants(
    db: Session, account_id: str, now: datetime, reason: str, client_id: str | None = None
) -> None:
    """Every grant of an account, offline ones included; only one service's when ``client_id`` is given."""
    where = [Grant.account_id == account_id]
    if client_id is not None:
        where.append(Grant.client_id == client_id)
    revoke(db, now, reason, *where)


def live_identity_grants(db: Session, account_id: str) -> list[Grant]:
    """The account's live grants that carry an identity level."""
    return list(
        db.scalars(
            select(Grant).where(
                Grant.account_id == account_id, Grant.identity_vot.is_not(None), Grant.revoked_at.is_(None)
            )
        )
    )


# Telling services


def queue_logout(db: Session, client_id: str, session_id: str, sub: str, now: datetime) -> None:
    """One back-channel logout notice in the outbox."""
    db.add(
        BackchannelLogout(
            client_id=client_id, session_id=session_id, sub=sub, created_at=now, next_attempt_at=now
        )
    )


def queue_logout_notices(db: Session, session_id: str, now: datetime) -> int:
    """One notice for each service that took part in the session and listens for them."""
    queued = 0
    participants = db.scalars(select(SessionClient).where(SessionClient.session_id == session_id))
    for participant in participants:
        client = db.get(Client, participant.client_id)
        if client is None or not client.backchannel_logout_uri:
            continue
        queue_logout(db, client.client_id, session_id, participant.sub, now)
        queued += 1
    return queued


def queue_client_logout(db: Session, client: Client, sub: str, now: datetime) -> int:
    """A notice for every session ``client`` took part in as ``sub``, when it listens for them."""
    if not client.backchannel_logout_uri:
        return 0
    sessions = db.scalars(
        select(SessionClient.session_id).where(
            SessionClient.client_id == client.client_id, SessionClient.sub == sub
        )
    ).all()
    for session_id in sessions:
        queue_logout(db, client.client_id, session_id, sub, now)
    return len(sessions)


# Ending what a person holds


def end_session(db: Session, settings: Settings, session_id: str, now: datetime) -> int:
    """End the session and its non-offline grants, and queue a notice to every service in it; the
    number of notices queued."""
    SessionService(db, settings).end(session_id, now)
    revoke_session_grants(db, session_id, now)
    return queue_logout_notices(db, session_id, now)


def sign_out(db: Session, settings: Settings, session_id: str | None, now: datetime) -> int:
    """RP-initiated or browser sign-out as one unit of work: :func:`end_session` when there is a
    session, then commit. The number of back-channel notices queued (the caller wakes the sender)."""
    with unit_of_work(db):
        return end_session(db, settings, session_id, now) if session_id else 0


def end_everywhere(db: Session, settings: Settings, account_id: str, now: datetime, reason: str) -> None:
    """Every live session of the account ends (each service in it is told) and every grant is revoked,
    so refresh tokens stop working: sign out everywhere, a password change or reset, a report."""
    for session_id in SessionService(db, settings).end_all(account_id, now):
        queue_logout_notices(db, session_id, now)
    revoke_account_grants(db, account_id, now, reason)
