"""The data sharing agreements service on a real database (SQLite and PostgreSQL): every change is one
unit of work that stores all or nothing, approval takes two people, and a refusal names its field."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from broker.oidc.clients import NewClient, register_client
from broker.policy.agreements import AgreementRefused, Agreements, NoSuchAgreement
from broker.policy.mou import can, draft_fields, read_draft
from broker.store.db import transaction
from broker.store.models import AuditEvent, Mou, MouVersion

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FIELDS = {
    "organisation": "Department for Licences",
    "purpose": "To issue fishing licences to the right person.",
    "lawful_basis": "Public task",
    "attributes": "email P0 required 365\nphone_number P0 optional 30",
    "start": "2026-01-01",
    "end": "2030-01-01",
    "review": "2027-01-01",
}


@pytest.fixture
def reference(session_factory) -> str:
    """A service registered at the command line: version 1 of its agreement approved, in force."""
    with transaction(session_factory) as db:
        new = NewClient(name="Fishing", redirect_uris=["https://fish.example/cb"], claims=["email"])
        client, _ = register_client(db, new, NOW, operator_approves=True)
        return str(db.scalar(select(Mou.reference).filter_by(client_id=client.client_id)))


def agreements(db) -> Agreements:
    return Agreements(db, lambda: NOW)


def stored(session_factory, reference: str) -> list[tuple[int, str]]:
    with session_factory() as db:
        rows = db.scalars(
            select(MouVersion).join(Mou).where(Mou.reference == reference).order_by(MouVersion.number)
        )
        return [(r.number, r.status) for r in rows]


def events(session_factory, action: str) -> int:
    with session_factory() as db:
        return int(db.scalar(select(func.count()).select_from(AuditEvent).filter_by(action=action)) or 0)


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"start": "soon"}, {"start": "Enter the start date as YYYY-MM-DD"}),
        (
            {"end": "", "review": "x"},
            {"end": "Enter the end date as YYYY-MM-DD", "review": "Enter the review date as YYYY-MM-DD"},
        ),
        (
            {"attributes": "email P9 required 365"},
            {
                "attributes": "Attribute line 1 must read: claim, level (P0 to P3), required or optional, days kept"
            },
        ),
        ({"attributes": ""}, {"attributes": "List at least one attribute"}),
        ({"organisation": " "}, {"organisation": "Enter the accountable organisation"}),
        (
            {"purpose": "Short"},
            {"purpose": "Describe the purpose in plain language (at least 20 characters)"},
        ),
        (
            {"end": "2025-01-01"},
            {
                "end": "The end date must be after the start date",
                "review": "The review date must fall between the start and end dates",
            },
        ),
    ],
)
def test_read_draft_names_each_field_that_is_wrong(changes, errors):
    assert read_draft({**FIELDS, **changes}) == (None, errors)


def test_read_draft_and_draft_fields_are_inverses():
    terms, errors = read_draft({**FIELDS, "onward_sharing": "yes"})
    assert errors == {} and terms is not None
    assert terms.onward_sharing and terms.start == date(2026, 1, 1)
    assert read_draft(draft_fields(terms)) == (terms, {})


@pytest.mark.parametrize(
    ("status", "action", "allowed"),
    [
        ("draft", "submit", True),
        ("draft", "approve", False),
        ("submitted", "approve", True),
        ("submitted", "reject", True),
        ("approved", "suspend", True),
        ("suspended", "resume", True),
        ("terminated", "resume", False),
        ("approved", "submit", False),
    ],
)
def test_can(status, action, allowed):
    assert can(status, action) is allowed


def test_a_draft_that_cannot_be_made_stores_nothing(session_factory, reference):
    with session_factory() as db, pytest.raises(AgreementRefused) as refused:
        agreements(db).draft(reference, {**FIELDS, "review": "2031-01-01"}, "alice")
    assert refused.value.errors == {"review": "The review date must fall between the start and end dates"}
    assert stored(session_factory, reference) == [(1, "approved")]
    assert events(session_factory, "mou.drafted") == 1  # version 1's, at registration


def test_a_draft_is_stored_and_audited_in_one_unit_of_work(session_factory, reference):
    with session_factory() as db:
        row = agreements(db).draft(reference, FIELDS, "alice")
    assert row.number == 2
    assert stored(session_factory, reference) == [(1, "approved"), (2, "draft")]
    assert events(session_factory, "mou.drafted") == 2


def test_approval_takes_a_second_person_and_a_refusal_changes_nothing(session_factory, reference):
    with session_factory() as db:
        service = agreements(db)
        service.draft(reference, FIELDS, "alice")
        service.act(reference, 2, "submit", "bob")
        for who in ("alice", "bob"):  # the author, then the one who submitted it
            with pytest.raises(AgreementRefused) as refused:
                service.act(reference, 2, "approve", who)
            assert (
                list(refused.value.errors) == ["note"] and "cannot approve it" in refused.value.errors["note"]
            )
    assert stored(session_factory, reference) == [(1, "approved"), (2, "submitted")]
    assert events(session_factory, "mou.approve") == 1  # version 1's, by the operator
    with session_factory() as db:
        agreements(db).act(reference, 2, "approve", "carol", " Checked with the DPO ")
    assert stored(session_factory, reference) == [(1, "approved"), (2, "approved")]
    with session_factory() as db:
        view = agreements(db).version(reference, 2)
        assert [(h["action"], h["actor"], h["note"]) for h in view.history] == [
            ("drafted", "alice", None),
            ("submit", "bob", None),
            ("approve", "carol", "Checked with the DPO"),
        ]
        assert view.before is not None and view.before.number == 1
        assert ("attribute phone_number", "(not shared)", "optional, from P0, kept 30 days") in view.changes


@pytest.mark.parametrize("action", ["reject", "suspend", "terminate"])
def test_some_actions_need_a_reason(session_factory, reference, action):
    with session_factory() as db, pytest.raises(AgreementRefused) as refused:
        agreements(db).act(reference, 1, action, "carol", "  ")
    assert refused.value.errors == {"note": "Give a reason"}
    assert stored(session_factory, reference) == [(1, "approved")]


def test_suspending_and_resuming_are_audited_with_their_reason(session_factory, reference):
    with session_factory() as db:
        agreements(db).act(reference, 1, "suspend", "carol", "Breach reported")
        assert stored(session_factory, reference) == [(1, "suspended")]
        with pytest.raises(AgreementRefused, match="A suspended version cannot be suspended"):
            agreements(db).act(reference, 1, "suspend", "carol", "Again")
        agreements(db).act(reference, 1, "resume", "carol")
    assert stored(session_factory, reference) == [(1, "approved")]
    assert events(session_factory, "mou.suspend") == 1


@pytest.mark.parametrize(
    ("reference", "number", "action"),
    [("MOU-nope", 1, "approve"), (None, 9, "approve"), (None, 1, "destroy")],
)
def test_what_does_not_exist_is_not_found(session_factory, reference, number, action, request):
    known = request.getfixturevalue("reference")
    with session_factory() as db, pytest.raises(NoSuchAgreement):
        agreements(db).act(reference or known, number, action, "carol", "why")


def test_the_overview_and_the_dry_run(session_factory, reference):
    with session_factory() as db:
        service = agreements(db)
        service.draft(reference, FIELDS, "alice")
        [row] = service.overview()
        assert (row["governing"].number, row["status"], row["latest"].number, row["latest_status"]) == (
            1,
            "active",
            2,
            "draft",
        )
        run = service.dry_run(reference, "2", "P1")  # a draft, tried as if approved
        assert (run.row.number, run.problems) == (2, [])
        assert run.released == ["email", "email_verified", "phone_number", "phone_number_verified"]
        assert service.dry_run(reference, None, "P7").level == "P0"
        # A new draft starts from version 1, in force, not from Alice's unapproved version 2.
        _mou, current, values = service.draft_values(reference)
        assert current.number == 1 and values["attributes"] == "email P0 required 365"


def test_a_version_is_compared_with_the_version_in_force_not_the_one_before(session_factory, reference):
    with session_factory() as db:
        service = agreements(db)
        service.draft(reference, FIELDS, "alice")  # version 2: a draft nobody approved
        service.draft(reference, {**FIELDS, "contacts": "dpo@licences.example"}, "bob")  # version 3
        view = service.version(reference, 3)
        assert (view.before.number, view.before_in_force) == (1, True)
        changed = [name for name, _old, _new in view.changes]
        assert {"organisation", "purpose", "lawful_basis", "contacts", "attribute phone_number"} <= set(
            changed
        )
        assert service.version(reference, 1).before is None  # in force, with nothing before it
        service.act(reference, 3, "submit", "bob")
        service.act(reference, 3, "approve", "carol")
        now_in_force = service.version(reference, 3)  # against the one it replaced
        assert (now_in_force.before.number, now_in_force.before_in_force) == (1, False)
        assert service.version(reference, 2).before.number == 3


def test_approving_a_version_that_ends_sharing_at_once_needs_confirming(session_factory, reference):
    ended = {**FIELDS, "end": "2026-11-23", "review": "2026-06-01"}  # ends today (NOW)
    with session_factory() as db:
        service = agreements(db)
        service.draft(reference, ended, "alice")
        assert service.version(reference, 2).ends_at_once
        assert not service.version(reference, 1).ends_at_once  # approved already: nothing to warn of
        service.act(reference, 2, "submit", "alice")
        with pytest.raises(AgreementRefused) as refused:
            service.act(reference, 2, "approve", "carol")
        assert list(refused.value.errors) == ["confirm_end"]
    assert stored(session_factory, reference) == [(1, "approved"), (2, "submitted")]
    with session_factory() as db:
        agreements(db).act(reference, 2, "approve", "carol", confirmed=True)
    assert stored(session_factory, reference) == [(1, "approved"), (2, "approved")]


def test_a_new_draft_starts_empty_when_no_version_was_ever_approved(session_factory):
    """``broker clients create`` outside development leaves a draft: nothing of it is copied."""
    with transaction(session_factory) as db:
        new = NewClient(name="Boats", redirect_uris=["https://boats.example/cb"], claims=["email"])
        client, _ = register_client(db, new, NOW)
        reference = str(db.scalar(select(Mou.reference).filter_by(client_id=client.client_id)))
    with session_factory() as db:
        _mou, current, values = agreements(db).draft_values(reference)
        assert (current, values) == (None, {})
        assert agreements(db).version(reference).before is None
