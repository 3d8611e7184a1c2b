"""Rows the consent and grant tests start from: a service, a person, their sessions and grants."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from broker.accounts.subject import subject
from broker.oidc.clients import NewClient, register_client
from broker.store.models import Account, BrowserSession, Client, Grant, SessionClient

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def a_service(db: Session, claims: list[str] | None = None, logout: bool = True) -> Client:
    """A service registered with an MOU for ``claims`` (approved, in force today), listening for
    back-channel logouts when ``logout``."""
    client, _ = register_client(
        db,
        NewClient(
            name=f"Service {uuid.uuid4().hex[:6]}",
            redirect_uris=["https://rp.example/cb"],
            claims=claims or ["email", "phone_number"],
            backchannel_logout_uri="https://rp.example/logout" if logout else None,
        ),
        NOW,
        allow_private_outbound=True,
        operator_approves=True,
    )
    return client


def a_person(db: Session) -> Account:
    account = Account(email=f"person-{uuid.uuid4().hex[:10]}@example.org", password_hash="x", created_at=NOW)
    db.add(account)
    db.flush()
    return account


def a_session(db: Session, account: Account, *clients: Client) -> BrowserSession:
    """A live session in which each of ``clients`` took part (pairwise subject ``sub-<client>``)."""
    session = BrowserSession(
        id=uuid.uuid4().hex,
        secret_hash=uuid.uuid4().hex,
        account_id=account.id,
        auth_time=NOW,
        amr=["pwd", "otp"],
        level="Cl.Cm",
        created_at=NOW,
        last_seen_at=NOW,
    )
    db.add(session)
    db.flush()
    for client in clients:
        db.add(
            SessionClient(
                session_id=session.id, client_id=client.client_id, sub=sub(client, account), first_at=NOW
            )
        )
    db.flush()
    return session


def sub(client: Client, account: Account) -> str:
    return subject(client, account)


def a_grant(
    db: Session,
    account: Account,
    client: Client,
    session: BrowserSession | None = None,
    scope: str = "openid email",
    identity_vot: str | None = None,
) -> Grant:
    grant = Grant(
        client_id=client.client_id,
        account_id=account.id,
        session_id=session.id if session else None,
        scope=scope,
        claims={},
        vot="Cl.Cm",
        identity_vot=identity_vot,
        amr=["pwd", "otp"],
        auth_time=NOW,
        created_at=NOW,
    )
    db.add(grant)
    db.flush()
    return grant
