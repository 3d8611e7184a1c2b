"""What a page does with input it cannot use: a 400 with a GOV.UK error summary, never a 5xx."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.store.models import AccountChange, AuditEvent, BrowserSession, OutboxMessage

OVERLONG = "a" * 400 + "@example.com"
# Empty, longer than any column, and a NUL byte (PostgreSQL refuses NUL in text).
BAD = {"empty": "", "overlong": OVERLONG, "nul": "someone\x00@example.com"}


def refused(response: httpx.Response) -> bool:
    return response.status_code == 400 and "govuk-error-summary__list" in response.text


def stored(db: Session) -> tuple[int, ...]:
    """How many rows a form could have written: sessions, messages, pending changes, audit events."""
    return tuple(
        db.scalar(select(func.count()).select_from(model)) or 0
        for model in (BrowserSession, OutboxMessage, AccountChange, AuditEvent)
    )
