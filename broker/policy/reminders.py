"""Reminders to agreements' owners: an agreement whose end or review date is near (or whose review is
overdue) is emailed to its named owner, once per agreement per milestone.

Which milestones are due is a pure rule (:func:`milestones_due`); :class:`Reminders` finds the version
governing each service, sends through the outbox (``broker.notify``) and records each reminder in the
audit log (``mou.reminded``), which is also how it knows a reminder was sent already. ``broker mou
remind`` runs it; the console lists the same agreements (``Agreements.attention``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.audit.log import record as audit
from broker.notify.outbox import Outbox
from broker.policy.mou import Terms, effective_status
from broker.policy.service import governing, terms_of
from broker.store.models import AuditEvent, Mou, MouVersion
from broker.store.unit import unit_of_work

# How long before an end or review date its owner is reminded (and the console lists it as "soon").
NOTICE = timedelta(days=30)
# States in which a version still governs what a service gets, so its dates matter.
GOVERNS = ("approved", "active", "suspended")
REMINDED = "mou.reminded"


@dataclass(frozen=True)
class Milestone:
    kind: str  # "end" or "review"
    on: date
    overdue: bool

    @property
    def key(self) -> str:
        """One reminder per agreement per milestone: a new end or review date is a new milestone."""
        return f"{self.kind}:{self.on.isoformat()}"


def milestones_due(status: str, terms: Terms, today: date, notice: timedelta = NOTICE) -> list[Milestone]:
    """The end and review dates of a version in ``status`` that its owner should hear of on ``today``
    (pure): an end date within ``notice`` (not yet passed), and a review date within ``notice`` or
    past. A version that no longer governs (draft, expired, ended) has none."""
    if effective_status(status, terms, today) not in GOVERNS:
        return []
    out = []
    if today <= terms.end <= today + notice:
        out.append(Milestone("end", terms.end, overdue=False))
    if terms.review <= today + notice:
        out.append(Milestone("review", terms.review, overdue=terms.review < today))
    return out


@dataclass(frozen=True)
class Due:
    mou: Mou
    row: MouVersion
    milestone: Milestone


class Reminders:
    def __init__(self, db: Session, clock: Callable[[], datetime], console_url: str) -> None:
        self.db, self.clock, self.console_url = db, clock, console_url.rstrip("/")

    def due(self) -> list[Due]:
        """Every governing version's milestones due today, soonest first."""
        today = self.clock().date()
        found = []
        for mou in self.db.scalars(select(Mou).order_by(Mou.reference)):
            row = governing(self.db, mou.client_id, today=today)
            if row is None:
                continue
            found += [Due(mou, row, m) for m in milestones_due(row.status, terms_of(row), today)]
        return sorted(found, key=lambda d: (d.milestone.on, d.mou.reference))

    def send(self) -> list[dict[str, object]]:
        """Email each due milestone's owner, once: what was sent, and what could not be (no owner)."""
        now = self.clock()
        done: list[dict[str, object]] = []
        with unit_of_work(self.db):
            for item in self.due():
                if self._reminded(item):
                    continue
                owner = item.row.owner_email.strip()
                entry: dict[str, object] = {
                    "reference": item.mou.reference,
                    "version": item.row.number,
                    "milestone": item.milestone.key,
                    "sent": bool(owner),
                }
                done.append(entry)
                if not owner:
                    continue  # said in the output; the console lists it, and the next run tries again
                Outbox(self.db).send_email(owner, "agreement_reminder", self._words(item), now)
                audit(
                    self.db,
                    REMINDED,
                    now=now,
                    actor="operator",
                    subject=item.mou.client_id,
                    reference=item.mou.reference,
                    version=item.row.number,
                    milestone=item.milestone.key,
                )
        return done

    def _reminded(self, item: Due) -> bool:
        events = self.db.scalars(
            select(AuditEvent).where(AuditEvent.action == REMINDED, AuditEvent.subject == item.mou.client_id)
        )
        return any(
            (e.details or {}).get("reference") == item.mou.reference
            and (e.details or {}).get("milestone") == item.milestone.key
            for e in events
        )

    def _words(self, item: Due) -> dict[str, object]:
        m = item.milestone
        what = {
            ("end", False): "ends",
            ("review", False): "is due for review",
            ("review", True): "was due for review",
        }[(m.kind, m.overdue)]
        return {
            "reference": item.mou.reference,
            "organisation": item.row.organisation,
            "what": what,
            "date": m.on.isoformat(),
            "link": f"{self.console_url}/admin/mous/{item.mou.reference}",
        }
