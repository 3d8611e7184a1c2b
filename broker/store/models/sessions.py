from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.base import Base


class BrowserSession(Base):
    """The broker's single sign-on session. The cookie holds a secret; only its hash is stored."""

    __tablename__ = "browser_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the OIDC ``sid``
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    auth_time: Mapped[datetime]
    amr: Mapped[list[str]]
    level: Mapped[str] = mapped_column(String(16))  # authentication vector achieved: Cl or Cl.Cm
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    webauthn_challenge: Mapped[str | None] = mapped_column(String(128))


class SessionClient(Base):
    """A relying service that took part in a session (it gets a back-channel logout notice)."""

    __tablename__ = "session_client"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("browser_session.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[str] = mapped_column(
        ForeignKey("client.client_id", ondelete="CASCADE"), primary_key=True
    )
    sub: Mapped[str] = mapped_column(String(128))
    first_at: Mapped[datetime]
