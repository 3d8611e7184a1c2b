"""Registered URIs the broker will not call are named before any notice fails: at start-up (a warning
naming the client, without personal data) and by ``broker clients check`` (exit status 1)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from ipaddress import ip_address

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs
from typer.testing import CliRunner

from broker.app import create_app
from broker.cli import app as cli
from broker.config import load_settings
from broker.oidc.clients import NewClient, register_client
from broker.outbound.check import (
    RefusedUri,
    RegisteredUri,
    check_at_startup,
    host_refused,
    refused_uris,
    registered_uris,
)
from broker.store.db import transaction
from broker.store.models import Client

NOW = datetime(2026, 11, 23, tzinfo=UTC)
DNS = {
    "rp.example": ["93.184.215.14"],
    "inside.example": ["10.0.0.7"],  # a public name pointing into the network
    "both.example": ["93.184.215.14", "127.0.0.1"],
    "metadata.example": ["169.254.169.254"],
}


class Resolver:
    """Answers from DNS above (a name it does not know does not resolve), counting look-ups."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, host: str, port: int):
        self.asked.append(host)
        if host not in DNS:
            raise OSError("no such name")
        return [ip_address(a) for a in DNS[host]]


def uri(client_id: str, uri: str, field: str = "backchannel_logout_uri") -> RegisteredUri:
    return RegisteredUri(client_id, field, uri)


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("rp.example", None),
        ("inside.example", "a private address"),
        ("both.example", "a loopback address"),
        ("metadata.example", "a link-local address"),
        ("gone.example", None),  # does not resolve: not an address the broker refuses
        ("127.0.0.1", "a loopback address"),
        ("localhost", "a local or private name"),
        ("intranet", "a local or private name"),
        ("8.8.8.8", None),
    ],
)
def test_in_production_a_host_is_refused_as_a_call_to_it_would_be(host, reason):
    assert host_refused(host, 443, allow_private=False, resolve=Resolver()) == reason


def test_where_private_addresses_are_allowed_only_link_local_and_reserved_are_flagged():
    found = refused_uris(
        [
            uri("a", "http://127.0.0.1:8001/bc"),
            uri("b", "https://inside.example/bc"),
            uri("c", "https://metadata.example/jwks", "jwks_uri"),
        ],
        allow_private=True,
        resolve=Resolver(),
    )
    assert found == [RefusedUri("c", "jwks_uri", "metadata.example", "a link-local address")]


def test_each_host_is_looked_up_once_and_literals_never():
    resolver = Resolver()
    found = refused_uris(
        [
            uri("a", "https://inside.example/logout"),
            uri("a", "https://inside.example/events", "security_event_uri"),
            uri("b", "https://inside.example/logout"),
            uri("c", "https://rp.example/logout"),
            uri("d", "https://10.0.0.1/logout"),
            uri("e", "not a uri"),
            uri("f", "https://rp.example:bad/"),
        ],
        allow_private=False,
        resolve=resolver,
    )
    assert resolver.asked == ["inside.example", "rp.example"]
    assert [(f.client_id, f.field, f.reason) for f in found] == [
        ("a", "backchannel_logout_uri", "a private address"),
        ("a", "security_event_uri", "a private address"),
        ("b", "backchannel_logout_uri", "a private address"),
        ("d", "backchannel_logout_uri", "a private address"),
    ]
    assert found[0].describe() == "a backchannel_logout_uri: inside.example leads to a private address"


def _register(session_factory, **uris: str) -> str:
    """A service registered where private addresses were allowed (development, or before a change)."""
    with transaction(session_factory) as db:
        client, _ = register_client(
            db,
            NewClient(name="S", redirect_uris=["https://rp.example/cb"], **uris),
            NOW,
            allow_private_outbound=True,
            operator_approves=True,
        )
        return client.client_id


def test_every_outbound_uri_a_service_registered_is_read(session_factory):
    first = _register(
        session_factory,
        backchannel_logout_uri="http://127.0.0.1:8001/bc",
        security_event_uri="https://rp.example/events",
    )
    second = _register(session_factory, jwks_uri="https://rp.example/jwks", auth_method="private_key_jwt")
    _register(session_factory)  # nothing to call
    with session_factory() as db:
        found = sorted(registered_uris(db), key=lambda r: (r.client_id != first, r.field))
    assert found == [
        RegisteredUri(first, "backchannel_logout_uri", "http://127.0.0.1:8001/bc"),
        RegisteredUri(first, "security_event_uri", "https://rp.example/events"),
        RegisteredUri(second, "jwks_uri", "https://rp.example/jwks"),
    ]


def test_the_start_up_check_warns_naming_the_client_and_never_the_path(session_factory):
    client_id = _register(session_factory, backchannel_logout_uri="http://127.0.0.1:8001/bc?person=x")
    _register(session_factory, backchannel_logout_uri="https://rp.example/bc")
    with capture_logs() as logs:
        thread = check_at_startup(session_factory, allow_private=False, resolve=Resolver())
        assert thread is not None
        thread.join(5)
    assert [(e["event"], e["client_id"], e["field"], e["reason"]) for e in logs] == [
        (
            "registered URI leads where the broker will not call",
            client_id,
            "backchannel_logout_uri",
            "a loopback address",
        )
    ]
    assert "person" not in str(logs) and "/bc" not in str(logs)


def test_with_nothing_registered_start_up_checks_nothing(session_factory):
    assert check_at_startup(session_factory, allow_private=False, resolve=Resolver()) is None


def test_an_unreadable_client_table_does_not_stop_start_up(tmp_path):
    from broker.store.db import make_engine, make_sessionmaker

    empty = make_sessionmaker(make_engine(f"sqlite:///{tmp_path}/empty.db"))  # never migrated
    with capture_logs() as logs:
        assert check_at_startup(empty, allow_private=False) is None
    assert logs[0]["event"].startswith("registered URIs not checked")


def test_a_broker_starting_with_production_outbound_rules_names_the_service(database_url, tmp_path):
    settings = load_settings(
        env="test",
        database_url=database_url,
        key_encryption_key_file=tmp_path / "kek",
        issuer="http://127.0.0.1:8000",
        outbound_allow_private=False,
    )
    app = create_app(settings)
    client_id = _register(
        app.state.services.session_factory, jwks_uri="http://127.0.0.1:9/jwks", auth_method="private_key_jwt"
    )
    with capture_logs() as logs, TestClient(app):
        deadline = time.monotonic() + 10
        while not any(e.get("client_id") == client_id for e in logs) and time.monotonic() < deadline:
            time.sleep(0.05)
    [warning] = [e for e in logs if e.get("client_id") == client_id]
    assert (warning["log_level"], warning["field"], warning["reason"]) == (
        "warning",
        "jwks_uri",
        "a loopback address",
    )


def _cli(database_url: str, allow_private: bool):
    env = {"BROKER_DATABASE_URL": database_url, "BROKER_OUTBOUND_ALLOW_PRIVATE": str(allow_private).lower()}
    return CliRunner().invoke(cli, ["clients", "check"], env=env)


def test_broker_clients_check_names_each_refused_uri_and_exits_1(database_url, session_factory):
    client_id = _register(session_factory, backchannel_logout_uri="http://127.0.0.1:8001/bc")
    metadata = _register(session_factory, jwks_uri="https://rp.example/jwks", auth_method="private_key_jwt")
    with transaction(session_factory) as db:  # as a row edited by hand: registration refuses it anywhere
        db.get(Client, metadata).jwks_uri = "https://169.254.169.254/jwks"
    result = _cli(database_url, allow_private=False)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert f"{client_id} backchannel_logout_uri: 127.0.0.1 leads to a loopback address" in lines
    assert f"{metadata} jwks_uri: 169.254.169.254 leads to a link-local address" in lines
    assert "/bc" not in result.output


def test_broker_clients_check_passes_when_every_uri_may_be_called(database_url, session_factory):
    _register(session_factory, backchannel_logout_uri="http://127.0.0.1:8001/bc")
    result = _cli(database_url, allow_private=True)
    assert result.exit_code == 0, result.output
    assert "1 registered URIs checked" in result.output
