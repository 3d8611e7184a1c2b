from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.base import Base


class SigningKey(Base):
    """A signing key pair. The private half is only ever stored wrapped (see ``keys.envelope``)."""

    __tablename__ = "signing_key"
    __table_args__ = (
        # At most one current and one next key per algorithm, even under concurrent rotation.
        Index(
            "uq_signing_key_one_current",
            "alg",
            unique=True,
            sqlite_where=text("state = 'current'"),
            postgresql_where=text("state = 'current'"),
        ),
        Index(
            "uq_signing_key_one_next",
            "alg",
            unique=True,
            sqlite_where=text("state = 'next'"),
            postgresql_where=text("state = 'next'"),
        ),
    )

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8))  # next | current | retired
    public_jwk: Mapped[dict[str, Any]]
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
