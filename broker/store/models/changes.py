from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.base import Base


class AccountChange(Base):
    """A change to how a person signs in, started on the Security page and waiting for its proof: a
    code sent to the new email address or phone, or a code from the new authenticator app.

    Bound to the browser session that started it; one of each ``kind`` per session at a time.
    """

    __tablename__ = "account_change"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("browser_session.id", ondelete="CASCADE"), index=True)
    # "email", "phone", "app" (the account's authenticator app), "backup-phone" or "backup-app".
    kind: Mapped[str] = mapped_column(String(16))
    new_email: Mapped[str | None] = mapped_column(String(320))
    new_phone: Mapped[str | None] = mapped_column(String(32))
    new_totp_secret: Mapped[str | None] = mapped_column(String(64))
    otp_hash: Mapped[str | None] = mapped_column(String(64))
    otp_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
