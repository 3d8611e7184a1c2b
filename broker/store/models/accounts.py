from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.base import Base, id_column


def _pairwise_seed() -> str:
    return secrets.token_hex(32)


class Account(Base):
    """A person's account. ``pairwise_seed`` keeps pairwise subjects unlinkable without the database."""

    __tablename__ = "account"

    id: Mapped[str] = id_column()
    email: Mapped[str] = mapped_column(String(320), unique=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(Text)
    phone_number: Mapped[str | None] = mapped_column(String(32))
    phone_number_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # The second factor asked for at sign-in: "email", "sms" or "totp" (None means email codes).
    mfa_method: Mapped[str | None] = mapped_column(String(8))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # a TOTP code works once (RFC 6238 §5.2)
    # A second, different way to get a code at sign-in ("sms" or "totp", never the same as
    # ``mfa_method``); it uses ``phone_number`` or ``totp_secret``, which the main method then does not.
    backup_method: Mapped[str | None] = mapped_column(String(8))
    # Lost second factor: a reset asked for, and when (after the waiting period) it may be done.
    factor_reset_requested_at: Mapped[datetime | None]
    factor_reset_available_at: Mapped[datetime | None]
    # Identity confidence the person holds (P0 until proofing says more).
    identity_level: Mapped[str] = mapped_column(String(2), default="P0")
    # Staff roles held by this account (e.g. "vouch_reviewer"); empty for the public.
    roles: Mapped[list[str]] = mapped_column(default=list)
    pairwise_seed: Mapped[str] = mapped_column(String(64), default=_pairwise_seed)
    created_at: Mapped[datetime]
