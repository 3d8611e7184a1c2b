"""Registering and changing relying services through the one service the console and the command line
share (SQLite and PostgreSQL): every rule names its field, a refusal stores nothing, and each change is
audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from broker.oidc.clients import NewClient, RegistrationInvalid, RelyingServices, jwks_from_text, problems
from broker.store.db import transaction
from broker.store.models import Account, AuditEvent, Client, Grant, Mou, MouVersion

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PUBLIC = {"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y"}]}
GOOD = NewClient(name="Boats", redirect_uris=["https://boats.example/cb"], claims=["email"])


def new(**changes: object) -> NewClient:
    return NewClient(**{**GOOD.__dict__, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({}, []),
        ({"name": "  "}, ["name"]),
        ({"redirect_uris": []}, ["redirect_uris"]),
        ({"redirect_uris": ["http://boats.example/cb"]}, ["redirect_uris"]),
        ({"post_logout_redirect_uris": ["boats.example/bye"]}, ["post_logout_redirect_uris"]),
        ({"backchannel_logout_uri": "https://127.0.0.1/bc"}, ["backchannel_logout_uri"]),
        ({"landing_page_url": "ftp://boats.example/"}, ["landing_page_url"]),
        ({"auth_method": "none"}, ["auth_method"]),
        ({"auth_method": "private_key_jwt"}, ["jwks_uri"]),
        ({"auth_method": "private_key_jwt", "jwks": PUBLIC}, []),
        ({"jwks": {"keys": [{"kty": "EC", "d": "secret"}]}}, ["jwks"]),
        ({"jwks": jwks_from_text("not json")}, ["jwks"]),
        ({"id_token_alg": "HS256"}, ["id_token_alg"]),
        ({"claims": ["email", "shoe_size"]}, ["claims"]),
        ({"sector_identifier": "fish.example"}, ["sector_identifier"]),
        ({"sector_identifier": "fish.example", "redirect_uris": []}, ["redirect_uris"]),
    ],
)
def test_problems_name_the_field_to_fix(changes, fields):
    assert list(problems(new(**changes), allow_private_outbound=False)) == fields


def count(session_factory, model) -> int:
    with session_factory() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_a_refused_registration_stores_nothing(session_factory):
    with session_factory() as db, pytest.raises(RegistrationInvalid) as refused:
        RelyingServices(db, lambda: NOW).register(new(name="", id_token_alg="none"), "staff-1")
    assert list(refused.value.errors) == ["name", "id_token_alg"]
    assert str(refused.value) == "Enter the service's name; Choose the ID token algorithm: ES256 or RS256"
    assert [count(session_factory, m) for m in (Client, Mou, MouVersion, AuditEvent)] == [0, 0, 0, 0]


def test_a_registration_is_audited_with_its_agreement_submitted_for_someone_else(session_factory):
    with session_factory() as db:
        client, secret = RelyingServices(db, lambda: NOW).register(
            new(landing_page_url="https://boats.example/"), "staff-1"
        )
    assert secret
    with session_factory() as db:
        stored = db.get(Client, client.client_id)
        assert stored is not None and stored.landing_page_url == "https://boats.example/"
        version = db.scalar(select(MouVersion).join(Mou).where(Mou.client_id == client.client_id))
        assert (version.status, version.author, version.submitted_by) == ("submitted", "staff-1", "staff-1")
        event = db.scalar(select(AuditEvent).filter_by(action="client.registered"))
        assert (event.actor, event.subject) == ("staff-1", client.client_id)


def test_the_command_line_registers_as_the_operator(session_factory):
    with session_factory() as db:
        RelyingServices(db, lambda: NOW, operator_approves=True).register(GOOD, None)
    with session_factory() as db:
        assert db.scalar(select(AuditEvent.actor).filter_by(action="client.registered")) == "operator"
        assert db.scalar(select(MouVersion.approved_by)) == "operator (command line)"


def test_a_change_is_checked_stored_and_audited(session_factory):
    with session_factory() as db:
        client, _ = RelyingServices(db, lambda: NOW).register(GOOD, "staff-1")
        client_id = client.client_id
    with session_factory() as db:
        service = RelyingServices(db, lambda: NOW)
        with pytest.raises(RegistrationInvalid) as refused:
            service.change(client_id, new(post_logout_redirect_uris=["http://boats.example/bye"]), "staff-2")
        assert list(refused.value.errors) == ["post_logout_redirect_uris"]
    with session_factory() as db:
        assert db.get(Client, client_id).post_logout_redirect_uris == []
        RelyingServices(db, lambda: NOW).change(
            client_id,
            new(name="Boat registration", post_logout_redirect_uris=["https://boats.example/bye"]),
            "staff-2",
        )
    with session_factory() as db:
        stored = db.get(Client, client_id)
        assert (stored.name, stored.post_logout_redirect_uris) == (
            "Boat registration",
            ["https://boats.example/bye"],
        )
        assert stored.sector_identifier == "boats.example"  # kept when the form leaves it empty
        assert db.scalar(select(AuditEvent.actor).filter_by(action="client.updated")) == "staff-2"


def test_the_sector_stays_once_people_have_used_the_service(session_factory):
    redirect = ["https://a.boats.example/cb"]
    with transaction(session_factory) as db:
        client, _ = RelyingServices(db, lambda: NOW).register(new(redirect_uris=redirect), "staff-1")
        client_id = client.client_id
    with session_factory() as db:  # before anyone used it, the sector may move up a level
        RelyingServices(db, lambda: NOW).change(
            client_id, new(redirect_uris=redirect, sector_identifier="boats.example"), "s"
        )
    with transaction(session_factory) as db:
        db.add(Account(id="acc", email="p@example.org", created_at=NOW))
        db.flush()
        db.add(
            Grant(
                id="g1",
                client_id=client_id,
                account_id="acc",
                scope="openid",
                claims={},
                vot="Cl.Cm",
                amr=["pwd"],
                auth_time=NOW,
                created_at=NOW,
            )
        )
    with session_factory() as db:
        with pytest.raises(RegistrationInvalid) as refused:
            RelyingServices(db, lambda: NOW).change(
                client_id, new(redirect_uris=redirect, sector_identifier="a.boats.example"), "s"
            )
        assert refused.value.errors == {
            "sector_identifier": "The sector identifier cannot change once people have used the service"
        }
        assert db.get(Client, client_id).sector_identifier == "boats.example"
