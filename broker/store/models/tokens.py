from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.base import Base, id_column


class Grant(Base):
    """What one authorization produced: every token issued from a code belongs to its grant,
    so revoking the grant (code reuse, refresh replay, logout) revokes them all."""

    __tablename__ = "grant"

    id: Mapped[str] = id_column()
    client_id: Mapped[str] = mapped_column(ForeignKey("client.client_id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(Text)
    claims: Mapped[dict[str, Any]]
    vot: Mapped[str] = mapped_column(String(16))
    # The identity level this grant may release (P1..P3), when the request asked for one.
    identity_vot: Mapped[str | None] = mapped_column(String(2))
    amr: Mapped[list[str]]
    auth_time: Mapped[datetime]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(64))


class AuthorizationCode(Base):
    __tablename__ = "authorization_code"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("grant.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class IssuedAccessToken(Base):
    """Access tokens are self-contained JWTs; this row lets revocation and introspection find them."""

    __tablename__ = "access_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("grant.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class RefreshToken(Base):
    """Refresh tokens rotate: each use marks the row used and issues a new one in the same family."""

    __tablename__ = "refresh_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("grant.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class SeenJti(Base):
    """Replay cache for client assertions when no Redis is configured."""

    __tablename__ = "seen_jti"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class BackchannelLogout(Base):
    """Durable outbox of back-channel logout notices (OIDC Back-Channel Logout 1.0)."""

    __tablename__ = "backchannel_logout"

    id: Mapped[str] = id_column()
    client_id: Mapped[str] = mapped_column(ForeignKey("client.client_id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(String(64))
    sub: Mapped[str] = mapped_column(String(128))
    # "logout" (a logout token to the back-channel logout URI) or "assurance_level_change" (a security
    # event token pushed to the security event URI, with ``event`` holding its levels).
    kind: Mapped[str] = mapped_column(String(24), default="logout")
    event: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None]
    gave_up_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
