"""The staff page over HTTP against a live broker (SQLite and PostgreSQL): an administrator grants and
revokes roles, each change audited; the attacks are refused: a colleague without the administrator
role, a post without the page's anti-forgery token, and revoking the last administrator."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from broker.accounts.staff import ADMINISTRATOR
from broker.store.db import transaction
from broker.store.models import Account, AuditEvent
from tests.e2e.test_admin_console import error_summary, staff


def roles_of(broker, email: str) -> list[str]:
    with broker.db() as db:
        return list(db.scalar(select(Account.roles).filter_by(email=email)) or [])


def audited(broker, action: str, subject: str) -> list[dict]:
    with broker.db() as db:
        return [
            {"actor": e.actor, **e.details}
            for e in db.scalars(
                select(AuditEvent).filter_by(action=action, subject=subject).order_by(AuditEvent.seq)
            )
        ]


def someone(broker) -> tuple[str, str]:
    email = f"colleague-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(email)
    with broker.db() as db:
        return email, str(db.scalar(select(Account.id).filter_by(email=email)))


def test_an_administrator_grants_and_revokes_a_role_and_each_change_is_audited(broker):
    admin = staff(broker, ADMINISTRATOR)
    email, account_id = someone(broker)
    page = admin.http.get(f"{broker.url}/admin/staff")
    assert page.status_code == 200 and "Grant role" in page.text
    admin.last_page = page.text

    assert (
        admin.post(f"{broker.url}/admin/staff/grant", {"email": email.upper(), "role": "auditor"}).status_code
        == 303
    )
    assert roles_of(broker, email) == ["auditor"]
    listed = admin.http.get(f"{broker.url}/admin/staff").text
    assert email in listed and f"Revoke auditor from {email}" in listed

    assert (
        admin.post(f"{broker.url}/admin/staff/revoke", {"email": email, "role": "auditor"}).status_code == 303
    )
    assert roles_of(broker, email) == []
    assert audited(broker, "staff.role_granted", account_id) == [
        {"actor": admin.account_id, "role": "auditor"}
    ]
    assert audited(broker, "staff.role_revoked", account_id) == [
        {"actor": admin.account_id, "role": "auditor"}
    ]


def test_a_wrong_grant_is_an_error_summary_and_changes_nothing(broker):
    admin = staff(broker, ADMINISTRATOR)
    admin.last_page = admin.http.get(f"{broker.url}/admin/staff").text
    unknown = admin.post(
        f"{broker.url}/admin/staff/grant", {"email": "nobody-here@example.org", "role": "auditor"}
    )
    assert unknown.status_code == 400
    assert error_summary(unknown.text) == [("email", "There is no account with this email address")]
    email, _ = someone(broker)
    made_up = admin.post(f"{broker.url}/admin/staff/grant", {"email": email, "role": "superuser"})
    assert made_up.status_code == 400 and error_summary(made_up.text) == [("role", "Choose a role")]
    assert roles_of(broker, email) == []


def test_a_colleague_without_the_administrator_role_cannot_see_grant_or_revoke(broker):
    admin = staff(broker, ADMINISTRATOR)
    for roles in (("approver", "policy_author", "auditor", "client_manager", "vouch_reviewer"),):
        colleague = staff(broker, *roles)
        assert colleague.http.get(f"{broker.url}/admin/staff").status_code == 403
        colleague.last_page = colleague.http.get(f"{broker.url}/admin").text
        refused = colleague.post(
            f"{broker.url}/admin/staff/grant",
            {"email": colleague_email(broker, colleague), "role": ADMINISTRATOR},
        )
        assert refused.status_code == 403
        assert ADMINISTRATOR not in roles_of(broker, colleague_email(broker, colleague))
        taken = colleague.post(
            f"{broker.url}/admin/staff/revoke",
            {"email": colleague_email(broker, admin), "role": ADMINISTRATOR},
        )
        assert taken.status_code == 403 and ADMINISTRATOR in roles_of(broker, colleague_email(broker, admin))


def colleague_email(broker, agent) -> str:
    with broker.db() as db:
        return str(db.scalar(select(Account.email).filter_by(id=agent.account_id)))


def test_a_grant_without_the_pages_anti_forgery_token_is_refused(broker):
    admin = staff(broker, ADMINISTRATOR)
    email, _ = someone(broker)
    for token in ({}, {"csrf_token": "forged-" + "x" * 30}):
        forged = admin.http.post(
            f"{broker.url}/admin/staff/grant", data={**token, "email": email, "role": "approver"}
        )
        assert forged.status_code in (400, 403)
    assert roles_of(broker, email) == []


def test_the_last_administrator_cannot_be_revoked(broker):
    admin = staff(broker, ADMINISTRATOR)
    me = colleague_email(broker, admin)
    with transaction(broker.db) as db:  # this administrator is the only one left
        for account in db.scalars(select(Account)):
            if ADMINISTRATOR in (account.roles or []) and account.id != admin.account_id:
                account.roles = [r for r in account.roles if r != ADMINISTRATOR]
    admin.last_page = admin.http.get(f"{broker.url}/admin/staff").text
    refused = admin.post(f"{broker.url}/admin/staff/revoke", {"email": me, "role": ADMINISTRATOR})
    assert refused.status_code == 400
    assert error_summary(refused.text) == [
        ("role", "This is the last administrator: grant the role to someone else first")
    ]
    assert ADMINISTRATOR in roles_of(broker, me)
    # With a second administrator, the first may step down.
    other, _ = someone(broker)
    assert (
        admin.post(f"{broker.url}/admin/staff/grant", {"email": other, "role": ADMINISTRATOR}).status_code
        == 303
    )
    assert (
        admin.post(f"{broker.url}/admin/staff/revoke", {"email": me, "role": ADMINISTRATOR}).status_code
        == 303
    )
    assert ADMINISTRATOR not in roles_of(broker, me)
