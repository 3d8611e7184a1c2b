"""The account services on a real database, with what ending a session sets off recorded (the
protocol layer's back-channel notices and grant revocation are tested with it, end to end)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.accounts.interactions import InteractionService
from broker.accounts.passwords import PasswordService
from broker.accounts.service import AccountService
from broker.accounts.visit import Endings, Visit
from broker.config import Settings
from broker.store.models import Interaction, OutboxMessage

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
PASSWORDS = PasswordService(
    concurrency=2, hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
)


@dataclass
class Ended:
    """What the services asked the protocol layer to do."""

    notices: list[str] = field(default_factory=list)
    everywhere: list[tuple[str, str]] = field(default_factory=list)
    wakes: int = 0

    def endings(self) -> Endings:
        def queue(_db: Session, session_id: str, _now: datetime) -> int:
            self.notices.append(session_id)
            return 1

        def everywhere(
            _db: Session, _settings: Settings, account_id: str, _now: datetime, reason: str
        ) -> None:
            self.everywhere.append((account_id, reason))

        def wake() -> None:
            self.wakes += 1

        return Endings(queue, everywhere, wake)


def visit(db: Session, settings: Settings, ended: Ended, now: list[datetime] | None = None) -> Visit:
    clock = now or [NOW]
    return Visit(db, settings, PASSWORDS, lambda: clock[0], "192.0.2.1", ended.endings())


def account(db: Session, email: str = "person@example.org", **values: Any) -> str:
    db.commit()
    created = AccountService(db, PASSWORDS).create(email, PASSWORD, verified=True, now=NOW)
    for name, value in values.items():
        setattr(created, name, value)
    db.commit()
    return created.id


def interaction(db: Session) -> Interaction:
    row = InteractionService(db).start(None, {"return_to": ["/account/security"]}, "browser", NOW)
    db.commit()
    return row


def last_code(db: Session, recipient: str) -> str:
    message = db.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == recipient)
        .order_by(OutboxMessage.created_at.desc())
    ).first()
    assert message is not None
    return str(message.personalisation["code"])
