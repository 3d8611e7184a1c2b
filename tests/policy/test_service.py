"""MOUs stored: who submitted a version, which version governs a service on a given day, and the
reason kept with every action (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from broker.oidc.clients import NewClient, register_client
from broker.policy.mou import PolicyError
from broker.policy.service import (
    add_version,
    agreement_for,
    apply,
    governing,
    history,
    release_for,
    terms_from,
    terms_of,
)
from broker.store.db import transaction
from broker.store.models import AuditEvent, Mou, MouVersion

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def service_with_an_agreement(db) -> tuple[str, Mou, MouVersion]:
    """A service registered at the command line: version 1 of its MOU approved, in force from today."""
    client, _ = register_client(
        db,
        NewClient(name="Fishing", redirect_uris=["https://fish.example/cb"], claims=["email"]),
        NOW,
        operator_approves=True,
    )
    mou = db.scalar(select(Mou).filter_by(client_id=client.client_id))
    return client.client_id, mou, governing(db, client.client_id, today=NOW.date())


def released(db, client_id: str, now: datetime) -> frozenset[str]:
    result, _ = release_for(
        db,
        account_id="someone",
        client_id=client_id,
        requested={"email"},
        identity_level="P0",
        now=now,
        consent_needed=False,
    )
    return result.released


def test_whoever_submits_a_colleagues_draft_cannot_also_approve_it(session_factory):
    with transaction(session_factory) as db:
        _, mou, current = service_with_an_agreement(db)
        draft = add_version(db, mou, replace(terms_of(current), contacts="alice@example.org"), "alice", NOW)
        apply(db, draft, "submit", "bob", NOW)  # Alice had not submitted her work in progress
        assert draft.submitted_by == "bob"
        with pytest.raises(PolicyError, match="The person who submitted a version cannot approve it"):
            apply(db, draft, "approve", "bob", NOW)
        with pytest.raises(PolicyError, match="The author of a version cannot approve it"):
            apply(db, draft, "approve", "alice", NOW)
        apply(db, draft, "approve", "carol", NOW)
        assert (draft.status, draft.approved_by) == ("approved", "carol")


def test_an_approved_version_that_starts_later_takes_over_on_its_start_date(session_factory):
    starts = NOW.date() + timedelta(days=30)
    with transaction(session_factory) as db:
        client_id, mou, current = service_with_an_agreement(db)
        terms = replace(terms_of(current), start=starts, review=starts + timedelta(days=30))
        future = add_version(db, mou, terms, "alice", NOW)
        apply(db, future, "submit", "alice", NOW)
        apply(db, future, "approve", "bob", NOW)

        assert governing(db, client_id, today=NOW.date()).number == 1
        assert released(db, client_id, NOW) == {"email"}  # approving it stopped nothing
        day_before = NOW + timedelta(days=29)
        assert agreement_for(db, client_id, today=day_before.date()).version_id == current.id
        on_the_day = datetime.combine(starts, datetime.min.time(), UTC)
        assert agreement_for(db, client_id, today=starts).version_id == future.id
        assert released(db, client_id, on_the_day) == {"email"}

        apply(db, current, "suspend", "bob", NOW, "Breach reported")
        assert released(db, client_id, NOW) == frozenset()  # a suspended version in force still blocks
        assert released(db, client_id, on_the_day) == {"email"}  # until its successor starts


def test_every_action_keeps_its_reason_in_the_audit_log_and_the_versions_history(session_factory):
    with transaction(session_factory) as db:
        _, mou, current = service_with_an_agreement(db)
        draft = add_version(db, mou, replace(terms_of(current), contacts="x"), "alice", NOW)
        apply(db, draft, "submit", "alice", NOW)
        apply(db, draft, "reject", "bob", NOW, "The retention period is too long")
        apply(db, draft, "submit", "alice", NOW, "Retention shortened as asked")
        apply(db, draft, "approve", "bob", NOW, "Checked with the DPO")
        apply(db, draft, "suspend", "bob", NOW, "Breach reported by the ICO, ticket 4711")
        apply(db, draft, "terminate", "bob", NOW, "The service has closed")

        notes = [(e.action, e.details.get("note")) for e in history(db, mou, draft.number)]
        assert notes == [
            ("mou.drafted", None),
            ("mou.submit", None),
            ("mou.reject", "The retention period is too long"),
            ("mou.submit", "Retention shortened as asked"),
            ("mou.approve", "Checked with the DPO"),
            ("mou.suspend", "Breach reported by the ICO, ticket 4711"),
            ("mou.terminate", "The service has closed"),
        ]
        assert all(e.details["version"] == draft.number for e in history(db, mou, draft.number))
        suspended = db.scalar(select(AuditEvent).filter_by(action="mou.suspend"))
        assert suspended.details["note"] == "Breach reported by the ICO, ticket 4711"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"attributes": [{"claim": "email", "min_level": "P9"}]}, "minimum level for email must be one of"),
        ({"review": "2100-01-01"}, "review date must fall between"),
        ({"purpose": "short"}, "at least 20 characters"),
    ],
)
def test_imported_terms_are_checked_as_the_console_checks_a_draft(change, words):
    document = {
        "organisation": "Department for Licences",
        "purpose": "To issue fishing licences to the right person.",
        "lawful_basis": "Public task",
        "attributes": [{"claim": "email", "min_level": "P0"}],
        "start": "2026-01-01",
        "end": "2027-01-01",
        "review": "2026-06-01",
    }
    assert terms_from(document).attributes[0].min_level == "P0"
    with pytest.raises(PolicyError, match=words):
        terms_from(document | change)


def test_the_agreement_read_for_the_protocol_sees_a_change_not_yet_flushed(session_factory):
    with transaction(session_factory) as db:
        client_id, _, current = service_with_an_agreement(db)
        current.status = "suspended"  # changed on the instance only: the session has not flushed it
        assert agreement_for(db, client_id, today=NOW.date()).status == "suspended"
        assert released(db, client_id, NOW) == frozenset()
