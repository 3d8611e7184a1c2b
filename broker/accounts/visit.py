"""What every account operation is built from: the request's database session, the settings, the
clock, the address the request came from, and what ending a session sets off elsewhere.

Ending a session tells the services that took part in it (back-channel logout) and, when every session
ends, revokes the account's grants. Those belong to the protocol layer, which this one does not import:
the page that builds a :class:`Visit` hands them in as :class:`Endings`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from broker.accounts.passwords import PasswordService
from broker.config import Settings


@dataclass(frozen=True)
class Endings:
    # One back-channel notice per service that took part in the session (db, session id, now).
    queue_notices: Callable[[Session, str, datetime], int]
    # Every session of the account ends and its grants are revoked (db, settings, account, now, reason).
    end_everywhere: Callable[[Session, Settings, str, datetime, str], None]
    # Deliver the queued notices now rather than at the sender's next turn.
    wake: Callable[[], None]


@dataclass(frozen=True)
class Visit:
    db: Session
    settings: Settings
    passwords: PasswordService
    clock: Callable[[], datetime]
    address: str | None
    endings: Endings
