"""The console's pages over HTTP against a live broker: bad input is a 400 with a GOV.UK error summary
naming the field, and nothing is stored; good input is stored and redirects."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from broker.store.models import AuditEvent, Client
from tests.e2e.test_admin_console import FORM, error_summary, service_mou, staff, version


def versions(broker, reference: str) -> list[int]:
    numbers = []
    for number in range(1, 10):
        row = version(broker, reference, number)
        if row is None:
            break
        numbers.append(row.number)
    return numbers


def test_a_draft_with_bad_input_is_an_error_summary_and_stores_nothing(broker):
    _, reference = service_mou(broker)
    author = staff(broker, "policy_author")
    page = author.post(
        f"{broker.url}/admin/mous/{reference}/new", {**FORM, "start": "tomorrow", "attributes": "email"}
    )
    assert page.status_code == 400 and "govuk-error-summary" in page.text
    assert [field for field, _ in error_summary(page.text)] == ["start", "attributes"]
    assert "To issue fishing licences to the right person." in page.text  # what was typed is kept
    assert versions(broker, reference) == [1]
    assert author.post(f"{broker.url}/admin/mous/{reference}/new", FORM).status_code == 303
    assert versions(broker, reference) == [1, 2]


def test_an_action_without_its_reason_is_an_error_summary_and_changes_nothing(broker):
    _, reference = service_mou(broker)
    approver = staff(broker, "approver")
    page = approver.post(f"{broker.url}/admin/mous/{reference}/versions/1/terminate", {"note": " "})
    assert page.status_code == 400 and error_summary(page.text) == [("note", "Give a reason")]
    assert version(broker, reference, 1).status == "approved"
    missing = approver.post(f"{broker.url}/admin/mous/{reference}/versions/7/suspend", {"note": "x"})
    assert missing.status_code == 404
    unknown = approver.post(f"{broker.url}/admin/mous/{reference}/versions/1/destroy", {"note": "x"})
    assert unknown.status_code == 404 and version(broker, reference, 1).status == "approved"


def registrations(broker) -> int:
    with broker.db() as db:
        return int(
            db.scalar(select(func.count()).select_from(AuditEvent).filter_by(action="client.registered"))
        )


def test_a_registration_with_bad_input_is_an_error_summary_and_stores_nothing(broker):
    manager = staff(broker, "client_manager")
    name = f"Boats {uuid.uuid4().hex[:6]}"
    before = registrations(broker)
    page = manager.post(
        f"{broker.url}/admin/services/new",
        {
            "name": name,
            "redirect_uris": "https://boats.example/cb",
            "auth_method": "private_key_jwt",
            "jwks": '{"keys": [{"kty": "EC", "d": "secret"}]}',
            "id_token_alg": "HS256",
            "claims": "email, shoe_size",
        },
    )
    assert page.status_code == 400 and "govuk-error-summary" in page.text
    assert [field for field, _ in error_summary(page.text)] == ["jwks", "id_token_alg", "claims"]
    with broker.db() as db:
        assert db.scalar(select(Client).filter_by(name=name)) is None
    assert registrations(broker) == before


def test_a_change_with_bad_input_is_an_error_summary_and_stores_nothing(broker):
    client_id, _ = service_mou(broker)
    manager = staff(broker, "client_manager")
    with broker.db() as db:
        redirect = db.get(Client, client_id).redirect_uris[0]
    form = {
        "name": "Renamed",
        "redirect_uris": redirect,
        "auth_method": "client_secret_basic",
        "id_token_alg": "ES256",
        "landing_page_url": "javascript:alert(1)",
    }
    page = manager.post(f"{broker.url}/admin/services/{client_id}", form)
    assert page.status_code == 400 and error_summary(page.text)[0][0] == "landing_page_url"
    with broker.db() as db:
        assert db.get(Client, client_id).name == "Test service"
    assert (
        manager.post(f"{broker.url}/admin/services/{client_id}", {**form, "landing_page_url": ""}).status_code
        == 303
    )
    with broker.db() as db:
        assert db.get(Client, client_id).name == "Renamed"
    assert manager.http.get(f"{broker.url}/admin/services/no-such-service").status_code == 404
