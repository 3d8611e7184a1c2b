"""Delivering the outbox. Without a Notify key messages stay for /dev/outbox; with one, a sender
thread passes them to GOV.UK Notify and then wipes their personalisation (codes) from the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broker.notify.outbox import WELSH_SUFFIX
from broker.store.db import transaction
from broker.store.models import OutboxMessage
from broker.workers import PollingWorker

log = structlog.get_logger(__name__)


class Notifier(Protocol):
    def send(self, channel: str, recipient: str, template: str, personalisation: dict[str, Any]) -> None: ...


class GovUkNotify:
    """GOV.UK Notify through its official client; each of our templates maps to a Notify template id."""

    def __init__(self, api_key: str, base_url: str, templates: dict[str, str]) -> None:
        from notifications_python_client.notifications import NotificationsAPIClient

        self.client = NotificationsAPIClient(api_key, base_url=base_url, timeout=10)
        self.templates = templates

    def send(self, channel: str, recipient: str, template: str, personalisation: dict[str, Any]) -> None:
        # A Welsh message ("<name>:cy") uses its own Notify template when one is configured.
        template_id = self.templates.get(template) or self.templates[template.removesuffix(WELSH_SUFFIX)]
        values = {k: str(v) for k, v in personalisation.items()}
        if channel == "sms":
            self.client.send_sms_notification(
                phone_number=recipient, template_id=template_id, personalisation=values
            )
        else:
            self.client.send_email_notification(
                email_address=recipient, template_id=template_id, personalisation=values
            )


class OutboxSender(PollingWorker):
    name = "notify-outbox"

    def __init__(
        self, session_factory: sessionmaker[Session], notifier: Notifier, clock: Callable[[], datetime]
    ) -> None:
        super().__init__()
        self.session_factory = session_factory
        self.notifier = notifier
        self.clock = clock

    def deliver_due(self, limit: int = 50) -> int:
        sent = 0
        with transaction(self.session_factory) as db:
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None))
                .order_by(OutboxMessage.created_at)
            )
            if db.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            for message in db.scalars(query.limit(limit)).all():
                self.notifier.send(
                    message.channel, message.recipient, message.template, message.personalisation
                )
                message.sent_at = self.clock()
                message.personalisation = {}  # codes do not outlive their delivery
                sent += 1
        return sent
