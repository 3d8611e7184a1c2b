"""The MOU console over HTTP against the live broker: two-person approval cannot be got round by
submitting a colleague's draft, errors land on their own field and on the version acted on, every
reason is kept and shown, the list shows the version in force, and bad input is an error summary,
never a 500."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from broker.policy.service import add_version, apply, governing, terms_of
from broker.store.db import transaction
from broker.store.models import Account, AuditEvent, Client, Mou, MouVersion
from broker.store.models.sessions import BrowserSession
from tests.e2e.agent import UserAgent, latest_code

FORM = {
    "organisation": "Department for Licences",
    "purpose": "To issue fishing licences to the right person.",
    "lawful_basis": "Public task",
    "attributes": "email P0 required 365",
    "start": "2020-01-01",
    "end": "2099-01-01",
    "review": "2030-01-01",
}


def staff(broker, *roles: str) -> UserAgent:
    """A staff member signed in as with a passkey (``hwk``), with ``roles``."""
    email = f"staff-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(email)
    agent = UserAgent(broker)
    here = agent.go(f"{broker.url}/account/sign-in?next=/admin")
    here = agent.submit(here, {"email": email, "password": "correct horse battery staple"})
    agent.submit(here, {"code": latest_code(broker, email)})
    with transaction(broker.db) as db:
        account = db.scalar(select(Account).filter_by(email=email))
        account.roles = list(roles)
        for session in db.scalars(select(BrowserSession).filter_by(account_id=account.id)):
            session.amr = [*session.amr, "hwk"]
        agent.account_id = account.id  # type: ignore[attr-defined]
    return agent


def service_mou(broker) -> tuple[str, str]:
    """A new service with version 1 of its MOU approved and in force: (client_id, reference)."""
    info = broker.create_client(
        redirect_uris=[f"http://localhost:9/cb/{uuid.uuid4().hex[:6]}"], claims=["email"]
    )
    with broker.db() as db:
        return str(info["client_id"]), db.scalar(select(Mou.reference).filter_by(client_id=info["client_id"]))


def version(broker, reference: str, number: int) -> MouVersion:
    with broker.db() as db:
        return db.scalar(
            select(MouVersion).join(Mou).where(Mou.reference == reference, MouVersion.number == number)
        )


def error_summary(page: str) -> list[tuple[str, str]]:
    """The GOV.UK error summary's links: (field id, message)."""
    return [(f, " ".join(m.split())) for f, m in re.findall(r'href="#([a-z_]+)"[^>]*>([^<]*)', page)]


def heading(page: str) -> str:
    return " ".join(
        re.sub("<[^>]+>", " ", re.search(r"<h1[^>]*>(.*?)</h1>", page, re.DOTALL).group(1)).split()
    )


def test_nobody_approves_a_colleagues_draft_they_submitted_themselves(broker):
    _, reference = service_mou(broker)
    alice = staff(broker, "policy_author")
    bob = staff(broker, "policy_author", "approver")
    # Alice saves work in progress (a passport at P0) and does not submit it.
    unfinished = {
        **FORM,
        "attributes": "email P0 required 365\nhttps://vocab.account.gov.uk/v1/passport P0 required 30",
    }
    assert alice.post(f"{broker.url}/admin/mous/{reference}/new", unfinished).status_code == 303
    assert bob.post(f"{broker.url}/admin/mous/{reference}/versions/2/submit", {}).status_code == 303
    refused = bob.post(f"{broker.url}/admin/mous/{reference}/versions/2/approve", {})
    assert refused.status_code == 400
    assert ("note", "The person who submitted a version cannot approve it: a second administrator must") in (
        error_summary(refused.text)
    )
    assert (version(broker, reference, 2).status, version(broker, reference, 2).submitted_by) == (
        "submitted",
        bob.account_id,
    )
    carol = staff(broker, "approver")
    assert carol.post(f"{broker.url}/admin/mous/{reference}/versions/2/approve", {}).status_code == 303


def test_an_attribute_line_with_a_non_ascii_digit_is_an_error_not_a_500(broker):
    _, reference = service_mou(broker)
    author = staff(broker, "policy_author")
    for days in ("\u00b2", "\u0663\u0660"):  # superscript two; Arabic-Indic thirty
        page = author.post(
            f"{broker.url}/admin/mous/{reference}/new", {**FORM, "attributes": f"email P0 required {days}"}
        )
        assert page.status_code == 400
        assert error_summary(page.text)[0][0] == "attributes"


def test_each_draft_problem_is_shown_on_its_own_field(broker):
    _, reference = service_mou(broker)
    author = staff(broker, "policy_author")
    late_review = author.post(f"{broker.url}/admin/mous/{reference}/new", {**FORM, "review": "2100-01-01"})
    assert late_review.status_code == 400
    assert error_summary(late_review.text) == [
        ("review", "The review date must fall between the start and end dates")
    ]
    backwards = author.post(f"{broker.url}/admin/mous/{reference}/new", {**FORM, "end": "2019-01-01"})
    assert ("end", "The end date must be after the start date") in error_summary(backwards.text)


def test_an_actions_error_is_shown_on_the_version_acted_on(broker):
    _, reference = service_mou(broker)
    both = staff(broker, "policy_author", "approver")
    assert both.post(f"{broker.url}/admin/mous/{reference}/new", FORM).status_code == 303
    assert both.post(f"{broker.url}/admin/mous/{reference}/versions/2/submit", {}).status_code == 303
    assert both.post(f"{broker.url}/admin/mous/{reference}/new", {**FORM, "contacts": "x"}).status_code == 303
    refused = both.post(f"{broker.url}/admin/mous/{reference}/versions/2/approve", {})  # version 3 is newer
    assert refused.status_code == 400 and "version 2" in heading(refused.text)
    assert "The author of a version cannot approve it" in refused.text
    no_reason = both.post(f"{broker.url}/admin/mous/{reference}/versions/2/reject", {})
    assert no_reason.status_code == 400 and "version 2" in heading(no_reason.text)


def test_every_reason_is_kept_with_its_audit_event_and_shown_in_the_history(broker):
    client_id, reference = service_mou(broker)
    approver = staff(broker, "approver")
    reason = f"Breach reported by the ICO, ticket {uuid.uuid4().hex[:6]}"
    assert (
        approver.post(f"{broker.url}/admin/mous/{reference}/versions/1/suspend", {"note": reason}).status_code
        == 303
    )
    with broker.db() as db:
        event = db.scalars(
            select(AuditEvent)
            .filter_by(action="mou.suspend", subject=client_id)
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert event.details["note"] == reason and event.actor == approver.account_id
    page = approver.http.get(f"{broker.url}/admin/mous/{reference}?version=1").text
    history = page[page.index("History of version 1") :]
    assert re.search(rf"suspend</td>.*?{re.escape(reason)}", history, re.DOTALL)


def test_a_dry_run_of_terms_with_problems_lists_them_instead_of_deciding(broker):
    client_id, reference = service_mou(broker)
    with transaction(broker.db) as db:  # as `broker mou import` stored a draft before it checked terms
        mou = db.scalar(select(Mou).filter_by(reference=reference))
        terms = replace(terms_of(governing(db, client_id)), attributes=())
        row = add_version(db, mou, terms, "alice", broker.services.clock())
        row.attributes = [{"claim": "email", "min_level": "P9", "required": True, "retention_days": 365}]
    auditor = staff(broker, "auditor")
    page = auditor.http.get(f"{broker.url}/admin/mous/{reference}/dry-run?version=2&level=P1")
    assert page.status_code == 200
    assert "The minimum level for email must be one of P0, P1, P2, P3" in page.text
    assert "Released" not in page.text


def test_the_list_shows_the_version_that_governs_each_service(broker):
    client_id, reference = service_mou(broker)
    author = staff(broker, "policy_author")
    assert (
        author.post(f"{broker.url}/admin/mous/{reference}/new", {**FORM, "contacts": "x"}).status_code == 303
    )
    with transaction(broker.db) as db:  # and an approved version 3 that starts next month
        mou = db.scalar(select(Mou).filter_by(reference=reference))
        today = broker.services.clock().date()
        later = replace(
            terms_of(governing(db, client_id)),
            start=today + timedelta(days=30),
            review=today + timedelta(days=60),
        )
        row = add_version(db, mou, later, "alice", broker.services.clock())
        apply(db, row, "submit", "alice", broker.services.clock())
        apply(db, row, "approve", "bob", broker.services.clock())
    page = author.http.get(f"{broker.url}/admin/mous").text
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{reference}(?:(?!</tr>).)*</tr>", page, re.DOTALL).group(0)
    cells = [
        " ".join(re.sub("<[^>]+>", " ", c).split())
        for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
    ]
    assert cells[2:] == ["1", "active Welsh missing", "Version 3: approved"]


def test_a_release_ledger_date_that_cannot_be_read_is_an_error(broker):
    auditor = staff(broker, "auditor")
    page = auditor.http.get(f"{broker.url}/admin/releases", params={"since": "last tuesday"})
    assert page.status_code == 400
    assert error_summary(page.text) == [
        ("since", "Enter the date as YYYY-MM-DD, or a date and time as YYYY-MM-DDTHH:MM")
    ]
    assert auditor.http.get(f"{broker.url}/admin/releases", params={"since": "2026-01-01"}).status_code == 200


def test_a_sector_that_does_not_cover_the_redirect_hosts_is_an_error_on_its_field(broker):
    manager = staff(broker, "client_manager")
    form = {
        "name": f"Boats {uuid.uuid4().hex[:6]}",
        "redirect_uris": "https://boats.example/callback",
        "auth_method": "client_secret_basic",
        "id_token_alg": "ES256",
        "claims": "email",
        "sector_identifier": "fish.example",  # another service's sector: it would share their sub
    }
    page = manager.post(f"{broker.url}/admin/services/new", form)
    assert page.status_code == 400
    assert [field for field, _ in error_summary(page.text)] == ["sector_identifier"]
    with broker.db() as db:
        assert db.scalar(select(Client).filter_by(name=form["name"])) is None
    registered = manager.post(
        f"{broker.url}/admin/services/new", {**form, "sector_identifier": "boats.example"}
    )
    assert registered.status_code == 200 and "is registered" in registered.text
    with broker.db() as db:
        assert db.scalar(select(Client.sector_identifier).filter_by(name=form["name"])) == "boats.example"


WELSH = {
    "organisation_cy": "Adran Drwyddedu",
    "purpose_cy": "I roi trwyddedau pysgota i'r person cywir.",
    "lawful_basis_cy": "Tasg gyhoeddus",
}


def list_row(page: str, reference: str) -> str:
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{reference}(?:(?!</tr>).)*</tr>", page, re.DOTALL).group(0)
    return " ".join(re.sub("<[^>]+>", " ", row).split())


def test_the_console_asks_for_the_welsh_flags_it_missing_and_approval_keeps_it(broker):
    _, reference = service_mou(broker)
    author = staff(broker, "policy_author")
    approver = staff(broker, "approver")
    # Version 1, registered at the command line, has no Welsh: flagged on the list and on the version.
    assert "Welsh missing" in list_row(author.http.get(f"{broker.url}/admin/mous").text, reference)
    page = author.http.get(f"{broker.url}/admin/mous/{reference}").text
    assert "Welsh missing" in heading(page)
    assert "This version has no Welsh organisation, purpose, lawful basis" in " ".join(page.split())
    form = author.http.get(f"{broker.url}/admin/mous/{reference}/new").text
    for name, label in (
        ("organisation_cy", "Organisation&#39;s name in Welsh"),
        ("purpose_cy", "Purpose in Welsh, in plain language"),
        ("lawful_basis_cy", "Lawful basis in Welsh, in plain words"),
    ):
        assert f'<label class="govuk-label" for="{name}">{label}</label>' in form
        assert re.search(rf'id="{name}" name="{name}"[^>]*lang="cy"', form)

    # Text longer than its column is an error on its own field; nothing is stored.
    too_long = {**FORM, **WELSH, "organisation_cy": "A" * 201}
    refused = author.post(f"{broker.url}/admin/mous/{reference}/new", too_long)
    assert refused.status_code == 400
    assert ("organisation_cy", "This answer must be 200 characters or fewer") in error_summary(refused.text)
    assert version(broker, reference, 2) is None

    assert author.post(f"{broker.url}/admin/mous/{reference}/new", {**FORM, **WELSH}).status_code == 303
    page = author.http.get(f"{broker.url}/admin/mous/{reference}?version=2").text
    assert "Welsh missing" not in page and "Adran Drwyddedu" in page
    assert re.search(r"<th[^>]*>purpose_cy</th>", page)  # the change from version 1 is shown
    # A new draft starts from the version in force: the Welsh once version 2 is approved, not before.
    assert "Adran Drwyddedu" not in author.http.get(f"{broker.url}/admin/mous/{reference}/new").text
    assert author.post(f"{broker.url}/admin/mous/{reference}/versions/2/submit", {}).status_code == 303
    assert approver.post(f"{broker.url}/admin/mous/{reference}/versions/2/approve", {}).status_code == 303
    assert "Adran Drwyddedu" in author.http.get(f"{broker.url}/admin/mous/{reference}/new").text
    approved = version(broker, reference, 2)
    assert approved.status == "approved"
    assert {name: getattr(approved, name) for name in WELSH} == WELSH
    assert "Welsh missing" not in list_row(author.http.get(f"{broker.url}/admin/mous").text, reference)


def words(page: str) -> str:
    """A page's text as a person reads it: no markup, entities read, spaces collapsed."""
    return " ".join(html.unescape(re.sub("<[^>]+>", " ", page)).split())


def changes_table(page: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """The version page's table of changes: its caption, and each row (what: (before, this version))."""
    table = re.search(
        r"<table[^>]*>\s*<caption[^>]*>(Changes from.*?)</caption>(.*?)</table>", page, re.DOTALL
    )
    assert table, "no table of changes"
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(2), re.DOTALL):
        cells = [
            " ".join(html.unescape(re.sub("<[^>]+>", " ", c)).split())
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)
        ]
        if len(cells) == 3 and cells[0] != "What":
            rows[cells[0]] = (cells[1], cells[2])
    return " ".join(table.group(1).split()), rows


def test_the_approver_sees_every_change_from_the_version_in_force(broker):
    """Alice leaves an unfinished draft (version 2); Bob's new draft starts from version 1, in force,
    not from hers, and the approver of Bob's version 3 sees each change from version 1."""
    _, reference = service_mou(broker)
    alice = staff(broker, "policy_author")
    bob = staff(broker, "policy_author")
    approver = staff(broker, "approver")
    v1 = version(broker, reference, 1)
    unfinished = {**FORM, "purpose": "To issue fishing licences and to market angling holidays."}
    assert alice.post(f"{broker.url}/admin/mous/{reference}/new", unfinished).status_code == 303

    form = bob.http.get(f"{broker.url}/admin/mous/{reference}/new").text
    assert "Filled in from version 1, the version in force" in form
    assert "angling holidays" not in form and v1.purpose in form

    changed = {
        **FORM,
        **WELSH,
        "attributes": "email P1 optional 30\nphone_number P0 optional 90",
        "contacts": "dpo@licences.example",
        "onward_sharing": "yes",
    }
    assert bob.post(f"{broker.url}/admin/mous/{reference}/new", changed).status_code == 303
    assert bob.post(f"{broker.url}/admin/mous/{reference}/versions/3/submit", {}).status_code == 303
    page = approver.http.get(f"{broker.url}/admin/mous/{reference}?version=3").text
    caption, rows = changes_table(page)
    assert caption == "Changes from version 1, the version in force"
    assert rows["organisation"] == (v1.organisation, FORM["organisation"])
    assert rows["purpose"] == (v1.purpose, FORM["purpose"])  # not Alice's angling holidays
    assert rows["lawful_basis"][1] == "Public task"
    assert rows["start"] == (v1.start_date.isoformat(), "2020-01-01")
    assert rows["end"][1] == "2099-01-01" and rows["review"][1] == "2030-01-01"
    assert rows["onward_sharing"] == ("no", "yes")
    assert rows["contacts"] == ("(none)", "dpo@licences.example")
    assert {name: rows[name] for name in WELSH} == {name: ("(none)", words) for name, words in WELSH.items()}
    assert rows["attribute email"] == ("required, from P0, kept 365 days", "optional, from P1, kept 30 days")
    assert rows["attribute phone_number"] == ("(not shared)", "optional, from P0, kept 90 days")
    assert approver.post(f"{broker.url}/admin/mous/{reference}/versions/3/approve", {}).status_code == 303
    caption, _ = changes_table(approver.http.get(f"{broker.url}/admin/mous/{reference}?version=3").text)
    assert caption == "Changes from version 1, the version it replaced"


def test_an_end_date_that_has_come_is_warned_of_and_approving_it_must_be_confirmed(broker):
    client_id, reference = service_mou(broker)
    author = staff(broker, "policy_author")
    approver = staff(broker, "approver")
    today = broker.services.clock().date()
    ending = {**FORM, "end": today.isoformat(), "review": (today - timedelta(days=1)).isoformat()}
    warning = (
        f"This version's end date is {today.isoformat()}: approving it ends sharing with the service at once"
    )

    author.submit(f"{broker.url}/admin/mous/{reference}/new", ending)  # follows to the version saved
    assert author.last_status == 200 and warning in words(author.last_page)
    submitted = author.post(f"{broker.url}/admin/mous/{reference}/versions/2/submit", {})
    assert submitted.status_code == 303
    page = approver.http.get(f"{broker.url}/admin/mous/{reference}?version=2").text
    assert warning in words(page)
    assert re.search(r'<label[^>]*for="confirm_end">I understand this ends sharing at once', page)

    refused = approver.post(f"{broker.url}/admin/mous/{reference}/versions/2/approve", {})
    assert refused.status_code == 400
    assert error_summary(refused.text) == [
        ("confirm_end", "Confirm that you understand approving this version ends sharing at once")
    ]
    assert version(broker, reference, 2).status == "submitted"
    with broker.db() as db:
        assert governing(db, client_id, today=today).number == 1  # the service still gets version 1

    approved = approver.post(
        f"{broker.url}/admin/mous/{reference}/versions/2/approve", {"confirm_end": "yes"}
    )
    assert approved.status_code == 303
    assert version(broker, reference, 2).status == "approved"
    done = approver.http.get(f"{broker.url}{approved.headers['location']}").text
    assert "Version approved." in done
    assert re.search(r'<a class="govuk-notification-banner__link" href="/admin/mous">', done)
    assert warning not in words(done)  # approved: nothing left to warn of


def test_the_confirmation_of_an_approval_says_what_happens_next(broker):
    _, reference = service_mou(broker)
    author = staff(broker, "policy_author")
    approver = staff(broker, "approver")
    assert author.post(f"{broker.url}/admin/mous/{reference}/new", FORM).status_code == 303
    assert author.post(f"{broker.url}/admin/mous/{reference}/versions/2/submit", {}).status_code == 303
    approved = approver.post(f"{broker.url}/admin/mous/{reference}/versions/2/approve", {})
    page = " ".join(
        re.sub("<[^>]+>", " ", approver.http.get(f"{broker.url}{approved.headers['location']}").text).split()
    )
    assert "Version approved. It governs" in page and "until 2099-01-01" in page
    assert "Next: go back to all data sharing agreements" in page
    # A link naming an action the version does not show done says nothing.
    page = approver.http.get(f"{broker.url}/admin/mous/{reference}?version=2&done=terminate").text
    assert "Agreement ended" not in page and "govuk-notification-banner" not in page
