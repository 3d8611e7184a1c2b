"""Reminders to agreements' owners: which end and review dates are due (a pure table), and on a real
database (SQLite and PostgreSQL) each is emailed through the outbox once per agreement per milestone,
and recorded in the audit log."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from broker.oidc.clients import NewClient, register_client
from broker.policy.mou import AttributeTerm, Terms
from broker.policy.reminders import Milestone, Reminders, milestones_due
from broker.policy.service import add_version, apply
from broker.store.db import transaction
from broker.store.models import AuditEvent, Mou, OutboxMessage

TODAY = date(2026, 11, 23)
TERMS = Terms(
    organisation="Fishing licences",
    purpose="To issue fishing licences to the right person.",
    lawful_basis="Public task",
    attributes=(AttributeTerm("email"),),
    start=date(2026, 1, 1),
    end=date(2027, 6, 1),
    review=date(2027, 3, 1),
)


@pytest.mark.parametrize(
    ("status", "changes", "due"),
    [
        ("approved", {}, []),
        (
            "approved",
            {"review": TODAY + timedelta(days=30)},
            [Milestone("review", TODAY + timedelta(days=30), False)],
        ),
        ("approved", {"review": TODAY + timedelta(days=31)}, []),
        (
            "approved",
            {"review": TODAY - timedelta(days=1)},
            [Milestone("review", TODAY - timedelta(days=1), True)],
        ),
        ("suspended", {"review": TODAY}, [Milestone("review", TODAY, False)]),
        (
            "approved",
            {"end": TODAY + timedelta(days=10), "review": TODAY + timedelta(days=5)},
            [
                Milestone("end", TODAY + timedelta(days=10), False),
                Milestone("review", TODAY + timedelta(days=5), False),
            ],
        ),
        (
            "approved",
            {"end": TODAY, "review": TODAY - timedelta(days=40)},
            [Milestone("end", TODAY, False), Milestone("review", TODAY - timedelta(days=40), True)],
        ),
        # Past its end it has expired: nobody is reminded of what no longer governs.
        ("approved", {"end": TODAY - timedelta(days=1), "review": TODAY - timedelta(days=9)}, []),
        ("draft", {"review": TODAY}, []),
        ("submitted", {"review": TODAY}, []),
        ("terminated", {"review": TODAY}, []),
    ],
)
def test_which_milestones_are_due(status, changes, due):
    assert milestones_due(status, replace(TERMS, **changes), TODAY) == due


def test_a_milestone_is_its_kind_and_date():
    assert Milestone("review", date(2027, 3, 1), False).key == "review:2027-03-01"


NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _service(session_factory, terms: Terms) -> str:
    """A service whose agreement's version 2 (``terms``) governs it: returns its reference."""
    with transaction(session_factory) as db:
        new = NewClient(name="Fishing", redirect_uris=["https://fish.example/cb"], claims=["email"])
        client, _ = register_client(db, new, NOW - timedelta(days=400), operator_approves=True)
        mou = db.scalar(select(Mou).filter_by(client_id=client.client_id))
        row = add_version(db, mou, terms, "author-1", NOW)
        apply(db, row, "submit", "author-1", NOW)
        apply(db, row, "approve", "approver-2", NOW)
        return mou.reference


def _sent(session_factory, recipient: str) -> list[OutboxMessage]:
    with session_factory() as db:
        return list(
            db.scalars(select(OutboxMessage).filter_by(recipient=recipient, template="agreement_reminder"))
        )


def test_an_owner_is_reminded_once_per_milestone_and_each_reminder_is_audited(session_factory):
    owner = "rhian.owen@licences.example.gov.uk"
    terms = replace(TERMS, review=TODAY + timedelta(days=20), owner_name="Rhian Owen", owner_email=owner)
    reference = _service(session_factory, terms)
    clock = lambda: NOW

    with transaction(session_factory) as db:
        first = Reminders(db, clock, "https://broker.example/").send()
    assert first == [{"reference": reference, "version": 2, "milestone": "review:2026-12-13", "sent": True}]
    [message] = _sent(session_factory, owner)
    assert message.personalisation["link"] == f"https://broker.example/admin/mous/{reference}"
    assert message.personalisation["what"] == "is due for review"

    with transaction(session_factory) as db:  # the next run, the same day or later: not again
        assert Reminders(db, lambda: NOW + timedelta(days=3), "https://broker.example").send() == []
    assert len(_sent(session_factory, owner)) == 1
    with session_factory() as db:
        events = list(db.scalars(select(AuditEvent).filter_by(action="mou.reminded")))
    assert [(e.details["reference"], e.details["milestone"]) for e in events] == [
        (reference, "review:2026-12-13")
    ]

    # The review becomes overdue and the end comes near: the end is a new milestone, reminded once.
    later = lambda: datetime(2027, 5, 10, 9, 0, tzinfo=UTC)
    with transaction(session_factory) as db:
        again = Reminders(db, later, "https://broker.example").send()
    assert again == [{"reference": reference, "version": 2, "milestone": "end:2027-06-01", "sent": True}]
    assert len(_sent(session_factory, owner)) == 2


def test_an_agreement_without_an_owner_is_named_and_not_recorded_as_reminded(session_factory):
    reference = _service(session_factory, replace(TERMS, review=TODAY))
    with transaction(session_factory) as db:
        done = Reminders(db, lambda: NOW, "https://broker.example").send()
    assert {"reference": reference, "version": 2, "milestone": "review:2026-11-23", "sent": False} in done
    with session_factory() as db:
        events = db.scalars(select(AuditEvent).filter_by(action="mou.reminded"))
        assert not [e for e in events if e.details["reference"] == reference]
