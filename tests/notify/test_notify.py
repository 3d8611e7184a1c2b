"""GOV.UK Notify: the outbox is delivered through the official client (to a stand-in Notify API on
localhost), then its codes are wiped; without a key, messages stay for the development outbox."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from structlog.testing import capture_logs

from broker.app import create_app
from broker.config import SettingsError, load_settings
from broker.language import language
from broker.notify.outbox import TEMPLATES, Outbox, render
from broker.notify.sender import MAX_ATTEMPTS, GovUkNotify, OutboxSender
from broker.store.db import transaction
from broker.store.models import OutboxMessage
from tests.e2e.conftest import free_port, start_server

SERVICE_ID, SECRET = str(uuid.uuid4()), str(uuid.uuid4())
API_KEY = f"test_key-{SERVICE_ID}-{SECRET}"  # test fixture, not a real Notify key
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# What the stand-in Notify answers for a recipient, in turn, before it accepts their messages:
# (status, Notify's error type, Notify's message).
REFUSALS: dict[str, list[tuple[int, str, str]]] = {}


@pytest.fixture(scope="module")
def fake_notify():
    app, received, lock = FastAPI(), [], threading.Lock()

    @app.post("/v2/notifications/{kind}")
    async def notify(kind: str, request: Request) -> dict[str, str]:
        token = request.headers["authorization"].removeprefix("Bearer ")
        claims = jwt.decode(
            token, SECRET, algorithms=["HS256"]
        )  # Notify's own scheme, verified as Notify does
        body = await request.json()
        with lock:
            received.append((kind, claims["iss"], body))
            answers = REFUSALS.get(body.get("email_address") or body.get("phone_number"))
            refusal = answers.pop(0) if answers else None
        if refusal is not None:
            status, error, message = refusal
            return JSONResponse(
                {"status_code": status, "errors": [{"error": error, "message": message}]}, status
            )
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


def sent_to(received, recipient: str) -> list[dict[str, object]]:
    return [b for _k, _iss, b in received if recipient in (b.get("email_address"), b.get("phone_number"))]


def outbox_row(session_factory, recipient: str) -> OutboxMessage:
    with session_factory() as db:
        return db.scalars(select(OutboxMessage).filter_by(recipient=recipient)).one()


def test_a_message_notify_refuses_fails_alone_and_the_others_go_once(session_factory, fake_notify, caplog):
    url, received = fake_notify
    run = uuid.uuid4().hex[:8]
    alice, carol, bad_number = f"alice-{run}@example.org", f"carol-{run}@example.org", f"+44{run}"
    REFUSALS[bad_number] = [(400, "ValidationError", f"phone_number {bad_number} Not a UK mobile number")]
    templates = {name: str(uuid.uuid4()) for name in TEMPLATES}
    with transaction(session_factory) as db:
        Outbox(db).send_email(alice, "sign_in_code", {"code": "111111", "minutes": 15}, NOW)
        Outbox(db).send_sms(
            bad_number, "sms_code", {"code": "222222", "minutes": 15}, NOW + timedelta(seconds=1)
        )
        Outbox(db).send_email(
            carol, "sign_in_code", {"code": "333333", "minutes": 15}, NOW + timedelta(seconds=2)
        )
    sender = OutboxSender(session_factory, GovUkNotify(API_KEY, url, templates), lambda: NOW)
    with capture_logs() as logs:
        for _ in range(3):  # the worker polls every second
            sender.deliver_due()
    assert len(sent_to(received, alice)) == 1 and len(sent_to(received, carol)) == 1
    assert len(sent_to(received, bad_number)) == 1  # a 400 is final: not tried again
    refused = outbox_row(session_factory, bad_number)
    assert refused.sent_at is None and refused.failed_at == NOW and refused.attempts == 1
    assert refused.last_error == "Notify answered 400 ValidationError"  # not Notify's words: no number
    assert refused.personalisation == {}  # its code is wiped too
    assert outbox_row(session_factory, carol).sent_at == NOW
    logged = repr(logs) + caplog.text  # ours, and the Notify client's own (it repeats Notify's message)
    assert "222222" not in logged and bad_number not in logged and run not in logged


@pytest.mark.parametrize(("status", "error"), [(429, "RateLimitError"), (500, "Exception")])
def test_notify_busy_or_failing_is_retried_with_back_off(session_factory, fake_notify, status, error):
    url, received = fake_notify
    person = f"later-{uuid.uuid4().hex[:8]}@example.org"
    REFUSALS[person] = [(status, error, "Try again later")] * 2
    templates = {name: str(uuid.uuid4()) for name in TEMPLATES}
    with transaction(session_factory) as db:
        Outbox(db).send_email(person, "sign_in_code", {"code": "444444", "minutes": 15}, NOW)
    now = [NOW]
    sender = OutboxSender(session_factory, GovUkNotify(API_KEY, url, templates), lambda: now[0])
    sender.deliver_due()
    row = outbox_row(session_factory, person)
    assert (row.attempts, row.failed_at, row.last_error) == (1, None, f"Notify answered {status} {error}")
    assert row.next_attempt_at == NOW + timedelta(seconds=5)
    sender.deliver_due()
    assert len(sent_to(received, person)) == 1  # not before its back-off
    now[0] = NOW + timedelta(seconds=5)
    sender.deliver_due()
    assert outbox_row(session_factory, person).next_attempt_at == now[0] + timedelta(seconds=10)  # doubled
    now[0] += timedelta(seconds=10)
    sender.deliver_due()
    delivered = outbox_row(session_factory, person)
    assert (delivered.sent_at, delivered.attempts, delivered.personalisation) == (now[0], 3, {})
    assert len(sent_to(received, person)) == 3


def test_a_message_that_never_gets_through_is_given_up(session_factory, fake_notify):
    url, received = fake_notify
    person = f"never-{uuid.uuid4().hex[:8]}@example.org"
    REFUSALS[person] = [(503, "Exception", "Down")] * MAX_ATTEMPTS
    templates = {name: str(uuid.uuid4()) for name in TEMPLATES}
    with transaction(session_factory) as db:
        Outbox(db).send_email(person, "sign_in_code", {"code": "555555", "minutes": 15}, NOW)
    now = [NOW]
    sender = OutboxSender(session_factory, GovUkNotify(API_KEY, url, templates), lambda: now[0])
    for _ in range(MAX_ATTEMPTS + 2):
        sender.deliver_due()
        now[0] += timedelta(hours=1)  # past any back-off
    row = outbox_row(session_factory, person)
    assert row.attempts == MAX_ATTEMPTS and row.failed_at is not None and row.sent_at is None
    assert len(sent_to(received, person)) == MAX_ATTEMPTS
