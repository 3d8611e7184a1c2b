"""Messages to people. In development they stay in the outbox and show at /dev/outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.store.models import OutboxMessage

TEMPLATES = {
    "sign_in_code": "Your security code is {code}. It expires in {minutes} minutes. Do not share it.",
    "sms_code": "Your security code is {code}. It expires in {minutes} minutes. Do not share it.",
    "verify_email": "Your security code is {code} to create your account. It expires in {minutes} minutes.",
    "account_exists": "Someone tried to create an account with this email address, but you already have one. "
    "Sign in instead, or reset your password if you have forgotten it. If this was not you, you can ignore "
    "this email.",
    "reset_code": "Your security code is {code} to reset your password. It expires in {minutes} minutes. "
    "If you did not ask for this, you can ignore this email: your password has not changed.",
    "factor_reset_requested": "Someone asked to reset the second factor on your account. If it was you, you "
    "can set up a new one in {hours} hours. If it was not you, sign in as usual to cancel it, and change "
    "your password.",
    "vouch_invitation": "{name} has asked you to vouch for their identity: to confirm who they are because you "
    "know them. Only do this if you have known them for at least 2 years. Open {link} to answer. The link "
    "works for {days} days. If you do not know this person, you can ignore this email.",
    "vouch_received": "Someone has vouched for you. Their vouch takes effect on {date}. If you did not ask "
    "for this, withdraw it at {link}.",
    "vouch_given": "You vouched for {name}. Your vouch takes effect on {date}; until then you can withdraw it "
    "at {link}.",
    "identity_dropped": "Your proven identity has changed level because something it relied on changed, "
    "such as a vouch being withdrawn. See what happened and what you can do at {link}.",
    "password_changed": "Your password was changed and you were signed out everywhere. If this was not you, "
    "contact us straight away.",
}


def render(template: str, personalisation: dict[str, Any]) -> str:
    return TEMPLATES[template].format(**personalisation)


class Outbox:
    def __init__(self, db: Session) -> None:
        self.db = db

    def send_email(
        self, recipient: str, template: str, personalisation: dict[str, Any], now: datetime
    ) -> None:
        self._add("email", recipient, template, personalisation, now)

    def send_sms(self, recipient: str, template: str, personalisation: dict[str, Any], now: datetime) -> None:
        self._add("sms", recipient, template, personalisation, now)

    def _add(
        self, channel: str, recipient: str, template: str, personalisation: dict[str, Any], now: datetime
    ) -> None:
        self.db.add(
            OutboxMessage(
                id=str(uuid.uuid4()),
                channel=channel,
                recipient=recipient,
                template=template,
                personalisation=personalisation,
                created_at=now,
            )
        )

    def recent(self, limit: int = 50, recipient: str | None = None) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit)
        if recipient:
            query = query.where(OutboxMessage.recipient == recipient)
        return list(self.db.scalars(query))
