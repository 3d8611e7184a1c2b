"""The console over HTTP against a live broker (SQLite and PostgreSQL): evaluating what a service would
receive for a person, and the data protection officer's fields of a draft."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from broker.store.db import transaction
from broker.store.models import Consent, Mou, MouVersion
from tests.e2e.test_admin_console import FORM, error_summary, service_mou, staff, version

DPO = {
    "dpia_reference": "DPIA-2026-014",
    "controller_relationship": "joint_controllers",
    "deletion_on_end": "Deleted within 30 days of the agreement ending.",
    "owner_name": "Rhian Owen",
    "owner_email": "rhian.owen@licences.example.gov.uk",
    "dpo_contact": "dpo@licences.example.gov.uk",
    "breach_contact": "security@licences.example.gov.uk",
    "international_transfers": "None: the data stays in the UK.",
}


def test_evaluate_shows_what_would_be_released_under_which_rule_and_why_the_rest_is_withheld(broker):
    client_id, reference = service_mou(broker)
    email = f"person-{uuid.uuid4().hex[:8]}@example.org"
    account_id = broker.create_account(email)
    auditor = staff(broker, "auditor")
    url = f"{broker.url}/admin/evaluate"

    before = auditor.http.get(url, params={"email": email, "service": client_id})
    assert before.status_code == 200
    assert f"{reference} version 1" in before.text
    assert "None that counts under the version in force" in before.text

    with transaction(broker.db) as db:
        row = db.scalar(select(MouVersion).join(Mou).where(Mou.reference == reference))
        db.add(
            Consent(
                account_id=account_id,
                client_id=client_id,
                scopes=["openid", "email"],
                claims=["email"],
                granted_at=datetime.now(UTC),
                mou_version_id=row.id,
            )
        )
    after = auditor.http.get(url, params={"email": email.upper(), "service": client_id})
    assert after.status_code == 200
    released = after.text.split("Would be released", 1)[1].split("Withheld", 1)[0]
    assert "(email): allowed by version 1, required, from P0, kept 365 days" in released
    assert "Given under version 1" in after.text


def test_evaluate_names_a_person_or_service_it_cannot_find(broker):
    client_id, _ = service_mou(broker)
    auditor = staff(broker, "auditor")
    url = f"{broker.url}/admin/evaluate"
    page = auditor.http.get(url, params={"email": "nobody-at-all@example.org", "service": ""})
    assert page.status_code == 400
    assert error_summary(page.text) == [
        ("email", "There is no account with this email address"),
        ("service", "Choose a service"),
    ]
    odd = auditor.http.get(url, params={"email": "a\x00b@example.org", "service": client_id})
    assert odd.status_code == 400  # never a database error
    assert staff(broker, "client_manager").http.get(url).status_code == 403


def test_a_draft_carries_the_dpo_fields_and_a_wrong_one_is_named(broker):
    _, reference = service_mou(broker)
    author = staff(broker, "policy_author")
    author.last_page = author.http.get(f"{broker.url}/admin/mous/{reference}/new").text
    assert "DPIA reference" in author.last_page and "Joint controllers" in author.last_page
    wrong = author.post(
        f"{broker.url}/admin/mous/{reference}/new", {**FORM, **DPO, "controller_relationship": "partners"}
    )
    assert wrong.status_code == 400
    assert error_summary(wrong.text) == [
        ("controller_relationship", "Choose how the parties stand to each other")
    ]
    too_long = author.post(
        f"{broker.url}/admin/mous/{reference}/new", {**FORM, **DPO, "dpia_reference": "D" * 65}
    )
    assert too_long.status_code == 400 and version(broker, reference, 2) is None

    assert author.post(f"{broker.url}/admin/mous/{reference}/new", {**FORM, **DPO}).status_code == 303
    row = version(broker, reference, 2)
    assert {name: getattr(row, name) for name in DPO} == DPO
    shown = author.http.get(f"{broker.url}/admin/mous/{reference}?version=2").text
    assert "DPIA-2026-014" in shown and "Rhian Owen &lt;rhian.owen@licences.example.gov.uk&gt;" in shown
    again = author.http.get(f"{broker.url}/admin/mous/{reference}/new").text
    # A new draft starts from the version in force, never from an unapproved draft such as this one.
    assert "DPIA reference" in again and 'value="DPIA-2026-014"' not in again
