from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.base import Base, id_column


class Client(Base):
    """A relying service registered with the broker."""

    __tablename__ = "client"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    client_secret_hash: Mapped[str | None] = mapped_column(Text)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    redirect_uris: Mapped[list[str]]
    post_logout_redirect_uris: Mapped[list[str]]
    backchannel_logout_uri: Mapped[str | None] = mapped_column(Text)
    # Shared Signals push endpoint (RFC 8935) for security events such as an identity losing its level.
    security_event_uri: Mapped[str | None] = mapped_column(Text)
    # Where people start using the service (shown on their account pages).
    landing_page_url: Mapped[str | None] = mapped_column(Text)
    jwks: Mapped[dict[str, Any] | None]
    jwks_uri: Mapped[str | None] = mapped_column(Text)
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(8), default="ES256")
    subject_type: Mapped[str] = mapped_column(String(16), default="pairwise")
    sector_identifier: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list[str]]
    # Claims the service may receive (the MOU issue turns this into a full agreement).
    claims: Mapped[list[str]]
    created_at: Mapped[datetime]


class Consent(Base):
    """What a person agreed to share with one service."""

    __tablename__ = "consent"
    __table_args__ = (UniqueConstraint("account_id", "client_id"),)

    id: Mapped[str] = id_column()
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("client.client_id", ondelete="CASCADE"))
    scopes: Mapped[list[str]]
    claims: Mapped[list[str]]
    granted_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    # The MOU version the person agreed under, the optional attributes they declined, and how.
    mou_version_id: Mapped[str | None] = mapped_column(String(36))
    declined: Mapped[list[str]] = mapped_column(default=list)
    method: Mapped[str] = mapped_column(String(32), default="consent page")
    note: Mapped[str | None] = mapped_column(String(200))
