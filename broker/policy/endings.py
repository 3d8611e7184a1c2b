"""Agreements that end by their end date: nobody acts on that day, so a background step finds them and
asks each service, once, to delete what it holds about the people who shared with it (the
``sharing-ended`` security event staff ending an agreement sends). Each telling is recorded in the
audit log (``mou.expired``), which is how the step knows it has told a service about that version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from broker.audit.log import AUDIT_LOCK, record
from broker.policy.mou import effective_status
from broker.policy.security_events import notify_agreement_ended
from broker.policy.service import governing, terms_of
from broker.store.models import AuditEvent, Mou, MouVersion
from broker.store.unit import unit_of_work
from broker.workers import PollingWorker

EXPIRED = "mou.expired"
CHECK_SECONDS = 600.0  # an agreement ends at the end of a day: checking every ten minutes is soon enough


def ended_by_date(db: Session, today: date) -> list[tuple[Mou, MouVersion]]:
    """Each agreement whose governing version has passed its end date, and whose service has not yet
    been told about that version."""
    told = {
        (event.subject, (event.details or {}).get("version_id"))
        for event in db.scalars(select(AuditEvent).where(AuditEvent.action == EXPIRED))
    }
    ended = []
    for mou in db.scalars(select(Mou).order_by(Mou.reference)):
        row = governing(db, mou.client_id, today=today)
        if row is None or (mou.client_id, row.id) in told:
            continue
        if effective_status(row.status, terms_of(row), today) == "expired":
            ended.append((mou, row))
    return ended


class AgreementEndings:
    """Tell the services whose agreements have ended by date, each once."""

    def __init__(self, db: Session, clock: Callable[[], datetime]) -> None:
        self.db, self.clock = db, clock

    def tell_services(self) -> int:
        """The number of events queued."""
        now = self.clock()
        queued = 0
        with unit_of_work(self.db):
            if self.db.get_bind().dialect.name == "postgresql":
                # One broker instance at a time decides, so no service is told twice.
                self.db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK})
            for mou, row in ended_by_date(self.db, now.date()):
                told = notify_agreement_ended(self.db, mou, row, now)
                record(
                    self.db,
                    EXPIRED,
                    now=now,
                    actor="system",
                    subject=mou.client_id,
                    reference=mou.reference,
                    version=row.number,
                    version_id=row.id,
                    events=told,
                )
                queued += told
        return queued


class AgreementEndingsWorker(PollingWorker):
    name = "agreement-endings"
    interval = CHECK_SECONDS

    def __init__(self, session_factory: sessionmaker[Session], clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.session_factory, self.clock = session_factory, clock

    def deliver_due(self) -> int:
        with self.session_factory() as db:
            return AgreementEndings(db, self.clock).tell_services()
