"""Delivering the outbox. Without a Notify key messages stay for /dev/outbox; with one, a sender
thread passes them to GOV.UK Notify and then wipes their personalisation (codes) from the database.

Each message is delivered and recorded on its own, so one that Notify refuses neither holds back the
messages after it nor sends again the ones before it. Messages are leased before sending, so several
instances can run senders side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from broker.notify.outbox import WELSH_SUFFIX
from broker.store.db import transaction
from broker.store.models import OutboxMessage
from broker.workers import PollingWorker

log = structlog.get_logger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 10  # about half an hour of retries: long past any code's expiry


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off: 5 s, 10 s, 20 s ... capped at ten minutes."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 600))


class DeliveryFailed(Exception):
    """Notify did not take a message. ``reason`` says why without personal data (no recipient, no
    personalisation); ``permanent`` when sending it again cannot help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def refusal_is_permanent(status: int) -> bool:
    """A 4xx is about the message itself (a number Notify cannot text, a bad template) and is final,
    except 429 (too many requests: later) and 403 (our API key: fixing it lets every message go)."""
    return 400 <= status < 500 and status not in (403, 408, 429)


class Notifier(Protocol):
    def send(self, channel: str, recipient: str, template: str, personalisation: dict[str, Any]) -> None:
        """Hand one message over, or raise DeliveryFailed."""


class GovUkNotify:
    """GOV.UK Notify through its official client; each of our templates maps to a Notify template id."""

    def __init__(self, api_key: str, base_url: str, templates: dict[str, str]) -> None:
        from notifications_python_client.notifications import NotificationsAPIClient

        self.client = NotificationsAPIClient(api_key, base_url=base_url, timeout=10)
        self.templates = templates

    def send(self, channel: str, recipient: str, template: str, personalisation: dict[str, Any]) -> None:
        from notifications_python_client.errors import APIError

        # A Welsh message ("<name>:cy") uses its own Notify template when one is configured.
        template_id = self.templates.get(template) or self.templates.get(template.removesuffix(WELSH_SUFFIX))
        if template_id is None:
            raise DeliveryFailed(f"no Notify template for {template}", permanent=True)
        values = {k: str(v) for k, v in personalisation.items()}
        try:
            if channel == "sms":
                self.client.send_sms_notification(
                    phone_number=recipient, template_id=template_id, personalisation=values
                )
            else:
                self.client.send_email_notification(
                    email_address=recipient, template_id=template_id, personalisation=values
                )
        except APIError as exc:  # an HTTP error status, or no answer at all (read as 503)
            # Notify's message can repeat what it was sent, so only its status and error type are kept.
            raise DeliveryFailed(
                f"Notify answered {exc.status_code} {_error_type(exc)}".strip(),
                permanent=refusal_is_permanent(exc.status_code),
            ) from None


def _error_type(exc: Exception) -> str:
    try:
        errors = exc.response.json().get("errors") or []  # type: ignore[attr-defined]
        return str(errors[0].get("error", ""))[:40]
    except (AttributeError, TypeError, ValueError, IndexError, KeyError):
        return ""


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
        """Send what is due, each message on its own; the number handed to Notify."""
        sent = 0
        for message_id, channel, recipient, template, personalisation in self._lease_due(limit):
            try:
                self.notifier.send(channel, recipient, template, personalisation)
            except DeliveryFailed as exc:
                self._record(message_id, exc)
                continue
            except Exception as exc:  # noqa: BLE001 - one message must not stop the rest: retried later
                self._record(message_id, DeliveryFailed(type(exc).__name__, permanent=False))
                continue
            self._record(message_id, None)
            sent += 1
        return sent

    def _lease_due(self, limit: int) -> list[tuple[str, str, str, str, dict[str, Any]]]:
        now = self.clock()
        with transaction(self.session_factory) as db:
            query = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.failed_at.is_(None),
                    or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
                )
                .order_by(OutboxMessage.created_at)
                .limit(limit)
            )
            if db.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            leased = []
            for message in db.scalars(query).all():
                message.next_attempt_at = now + LEASE
                leased.append(
                    (
                        message.id,
                        message.channel,
                        message.recipient,
                        message.template,
                        dict(message.personalisation),
                    )
                )
        return leased

    def _record(self, message_id: str, error: DeliveryFailed | None) -> None:
        now = self.clock()
        with transaction(self.session_factory) as db:
            message = db.get(OutboxMessage, message_id)
            if message is None:
                return
            message.attempts = (message.attempts or 0) + 1
            if error is None:
                message.sent_at = now
                message.personalisation = {}  # codes do not outlive their delivery
                return
            message.last_error = error.reason[:200]
            if error.permanent or message.attempts >= MAX_ATTEMPTS:
                message.failed_at = now
                message.personalisation = {}
                log.warning(
                    "message not delivered",
                    template=message.template,
                    attempts=message.attempts,
                    error=message.last_error,
                )
            else:
                message.next_attempt_at = now + retry_delay(message.attempts)
                log.info(
                    "message delivery will be retried", template=message.template, error=message.last_error
                )
