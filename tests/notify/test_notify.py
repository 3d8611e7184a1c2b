"""GOV.UK Notify: the outbox is delivered through the official client (to a stand-in Notify API on
localhost), then its codes are wiped; without a key, messages stay for the development outbox."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import jwt
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import select

from broker.app import create_app
from broker.config import SettingsError, load_settings
from broker.language import language
from broker.notify.outbox import TEMPLATES, Outbox, render
from broker.notify.sender import GovUkNotify, OutboxSender
from broker.store.db import transaction
from broker.store.models import OutboxMessage
from tests.e2e.conftest import free_port, start_server

SERVICE_ID, SECRET = str(uuid.uuid4()), str(uuid.uuid4())
API_KEY = f"test_key-{SERVICE_ID}-{SECRET}"  # test fixture, not a real Notify key
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fake_notify():
    app, received, lock = FastAPI(), [], threading.Lock()

    @app.post("/v2/notifications/{kind}")
    async def notify(kind: str, request: Request) -> dict[str, str]:
        token = request.headers["authorization"].removeprefix("Bearer ")
        claims = jwt.decode(
            token, SECRET, algorithms=["HS256"]
        )  # Notify's own scheme, verified as Notify does
        with lock:
            received.append((kind, claims["iss"], await request.json()))
        return {"id": str(uuid.uuid4())}

    port = free_port()
    server, thread = start_server(app, port)
    yield f"http://127.0.0.1:{port}", received
    server.should_exit = True
    thread.join(timeout=10)


def test_outbox_goes_to_notify_and_codes_are_wiped(session_factory, fake_notify):
    url, received = fake_notify
    templates = {name: str(uuid.uuid4()) for name in TEMPLATES}
    with transaction(session_factory) as db:
        Outbox(db).send_email("person@example.org", "sign_in_code", {"code": "123456", "minutes": 15}, NOW)
        Outbox(db).send_sms("+447911123456", "sms_code", {"code": "654321", "minutes": 15}, NOW)
    sender = OutboxSender(session_factory, GovUkNotify(API_KEY, url, templates), lambda: NOW)
    assert sender.deliver_due() == 2
    assert sender.deliver_due() == 0  # nothing sent twice
    by_kind = {kind: (iss, body) for kind, iss, body in received[-2:]}
    assert by_kind["email"][0] == SERVICE_ID
    assert by_kind["email"][1]["email_address"] == "person@example.org"
    assert by_kind["email"][1]["template_id"] == templates["sign_in_code"]
    assert by_kind["email"][1]["personalisation"] == {"code": "123456", "minutes": "15"}
    assert by_kind["sms"][1]["phone_number"] == "+447911123456"
    with session_factory() as db:
        rows = db.scalars(select(OutboxMessage)).all()
        assert all(r.sent_at == NOW and r.personalisation == {} for r in rows)


def test_a_notify_key_without_every_template_id_stops_start_up(tmp_path):
    settings = load_settings(
        env="test",
        database_url=f"sqlite:///{tmp_path}/b.db",
        key_encryption_key_file=tmp_path / "k",
        notify_api_key=API_KEY,
        notify_templates={"sign_in_code": str(uuid.uuid4())},
    )
    with pytest.raises(SettingsError, match="BROKER_NOTIFY_TEMPLATES"):
        create_app(settings)


def test_a_person_using_the_pages_in_welsh_gets_welsh_messages(session_factory, fake_notify):
    url, received = fake_notify
    person = f"cy-{uuid.uuid4().hex[:8]}@example.org"  # the stand-in Notify keeps every run's messages
    templates = {name: str(uuid.uuid4()) for name in TEMPLATES} | {"sign_in_code:cy": str(uuid.uuid4())}
    token = language.set("cy")
    try:
        with transaction(session_factory) as db:
            Outbox(db).send_email(person, "sign_in_code", {"code": "111111", "minutes": 15}, NOW)
            Outbox(db).send_email(person, "password_changed", {}, NOW)
    finally:
        language.reset(token)
    with session_factory() as db:
        rows = db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == person)).all()
        bodies = {row.template: render(row.template, row.personalisation) for row in rows}
    assert bodies["sign_in_code:cy"].startswith("Eich cod diogelwch yw 111111")
    assert "allgofnodi" in bodies["password_changed:cy"]
    OutboxSender(session_factory, GovUkNotify(API_KEY, url, templates), lambda: NOW).deliver_due()
    used = {body["template_id"] for _kind, _iss, body in received if body.get("email_address") == person}
    # Its own Notify template where one is configured; the English one (still delivered) where not.
    assert used == {templates["sign_in_code:cy"], templates["password_changed"]}
