from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.base import Base


class ThrottleCounter(Base):
    """Failures counted per (limit, account or client address), shared by every broker instance."""

    __tablename__ = "throttle_counter"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime]
    blocked_until: Mapped[datetime | None]
