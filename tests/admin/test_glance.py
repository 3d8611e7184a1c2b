"""The console at a glance (the admin home), over HTTP against a live broker (SQLite and PostgreSQL):
each service with what it gets, its version, dates and the people who wrote and approved it (by email
address, not id); agreements ending soon and reviews due; search and paging."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from broker.policy import agreements as agreements_module
from broker.policy.agreements import Agreements
from broker.policy.mou import AttributeTerm, Terms
from broker.policy.service import add_version, apply
from broker.store.db import transaction
from broker.store.models import Account, Mou
from tests.e2e.test_admin_console import service_mou, staff


def email_of(broker, agent) -> str:
    with broker.db() as db:
        return str(db.scalar(select(Account.email).filter_by(id=agent.account_id)))


def test_each_service_with_its_version_dates_and_people_and_what_needs_attention(broker):
    client_id, reference = service_mou(broker)
    author, approver = staff(broker, "policy_author"), staff(broker, "approver")
    today = datetime.now(UTC)
    terms = Terms(
        organisation="Fishing licences",
        purpose="To issue fishing licences to the right person.",
        lawful_basis="Public task",
        attributes=(AttributeTerm("email"), AttributeTerm("phone_number", required=False)),
        start=today.date() - timedelta(days=1),
        end=today.date() + timedelta(days=20),
        review=today.date() - timedelta(days=1),
    )
    with transaction(broker.db) as db:
        mou = db.scalar(select(Mou).filter_by(reference=reference))
        row = add_version(db, mou, terms, author.account_id, today)
        apply(db, row, "submit", author.account_id, today)
        apply(db, row, "approve", approver.account_id, today)

    reader = staff(broker, "auditor")
    page = reader.http.get(f"{broker.url}/admin", params={"search": client_id.upper()})
    assert page.status_code == 200 and "1 service matching" in page.text
    table = page.text.split("Services at a glance", 1)[1]
    assert f"{reference} v2" in table and "(active)" in table
    assert email_of(broker, author) in table and email_of(broker, approver) in table
    assert author.account_id not in table  # names, not ids
    assert (terms.end.isoformat() in table) and (terms.review.isoformat() in table)
    ending = page.text.split("Agreements ending within 30 days", 1)[1].split("Reviews due", 1)[0]
    assert f"{reference}</a> (Fishing licences) ends on {terms.end}" in ending
    reviews = page.text.split("Reviews due or overdue", 1)[1].split("Services at a glance", 1)[0]
    assert f"review overdue since {terms.review}" in reviews

    nothing = reader.http.get(f"{broker.url}/admin", params={"search": f"no-such-{uuid.uuid4().hex}"})
    assert "0 services matching" in nothing.text
    odd = reader.http.get(f"{broker.url}/admin", params={"search": "a\x00b"})
    assert odd.status_code == 400 and "no control characters" in odd.text
    # Staff who do not read agreements see their roles, not the agreements.
    assert "Services at a glance" not in staff(broker, "vouch_reviewer").http.get(f"{broker.url}/admin").text


def test_services_come_a_page_at_a_time(broker, monkeypatch):
    marker = uuid.uuid4().hex[:6]
    made = [
        broker.create_client(
            name=f"Paged {marker} {n}", claims=["email"], redirect_uris=[f"http://localhost:9/cb/{marker}{n}"]
        )["client_id"]
        for n in range(3)
    ]
    monkeypatch.setattr(agreements_module, "GLANCE_PAGE", 2)
    with broker.db() as db:
        service = Agreements(db, lambda: datetime.now(UTC))
        first, second = service.at_a_glance(f"paged {marker}", 1), service.at_a_glance(f"Paged {marker}", 2)
        beyond = service.at_a_glance(f"paged {marker}", 99)
    assert (first.total, first.pages, second.page, beyond.page) == (3, 2, 2, 2)
    assert [g.client.client_id for g in first.rows + second.rows] == made
    assert [g.client.name for g in first.rows] == [f"Paged {marker} 0", f"Paged {marker} 1"]
