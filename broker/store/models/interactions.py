from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.base import Base


class Interaction(Base):
    """An authorization request waiting on the person (sign-in, second factor, consent).

    Bound to the browser that started it by a cookie whose hash is stored here.
    """

    __tablename__ = "interaction"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser_binding_hash: Mapped[str] = mapped_column(String(64))
    # None for a sign-in to the broker's own pages (``params["return_to"]`` says where to go back).
    client_id: Mapped[str | None] = mapped_column(ForeignKey("client.client_id", ondelete="CASCADE"))
    params: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Filled in as the person goes through the steps.
    account_id: Mapped[str | None] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    password_ok_at: Mapped[datetime | None]
    otp_hash: Mapped[str | None] = mapped_column(String(64))
    otp_expires_at: Mapped[datetime | None]
    otp_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A code sent to the account's backup method (kept apart, so neither code passes for the other).
    backup_otp_hash: Mapped[str | None] = mapped_column(String(64))
    backup_otp_expires_at: Mapped[datetime | None]
    # Creating an account or recovering one, within this authorization request.
    journey_email: Mapped[str | None] = mapped_column(String(320))
    journey_verified_at: Mapped[datetime | None]
    pending_phone: Mapped[str | None] = mapped_column(String(32))
    pending_totp_secret: Mapped[str | None] = mapped_column(String(64))
    webauthn_challenge: Mapped[str | None] = mapped_column(String(128))
    # The account allowed to set up a second factor in this interaction: one just created here, or one
    # whose lost-factor waiting period has passed. Nothing else may reach the factor set-up pages.
    factor_setup_for: Mapped[str | None] = mapped_column(String(36))
    session_id: Mapped[str | None] = mapped_column(String(64))
    login_completed_at: Mapped[datetime | None]
    consent_given_at: Mapped[datetime | None]
    # The person went through identity proofing for this request (whatever it reached).
    identity_attempted_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """Email and text messages. Without a Notify key they stay here and show at /dev/outbox."""

    __tablename__ = "outbox_message"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    recipient: Mapped[str] = mapped_column(String(320))
    template: Mapped[str] = mapped_column(String(64))
    personalisation: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    # Delivery through Notify: each message on its own, retried with back-off when Notify is busy or
    # down; one Notify refuses outright (a number it cannot text) fails and is not tried again.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))  # the status and error type, no personal data
