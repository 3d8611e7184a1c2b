"""The catalog holds clients and MOU versions in memory only while a listener hears every change, and
forgets them all on any change: another instance's, the command line's, or a direct SQL update."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text, update

from broker.oidc.clients import NewClient, register_client
from broker.oidc.repository import OidcRepository
from broker.store.catalog import Catalog, CatalogListener, Heartbeat
from broker.store.db import make_engine, make_sessionmaker, transaction
from broker.store.models import Client
from tests.catalog import settle, wait_for


def counting(value: Client | None) -> tuple[Callable[[], Client | None], list[int]]:
    reads: list[int] = []

    def load() -> Client | None:
        reads.append(1)
        return value

    return load, reads


def test_nothing_is_held_until_a_listener_is_connected() -> None:
    catalog = Catalog()
    load, reads = counting(Client(client_id="a"))
    catalog.client("a", load)
    catalog.client("a", load)
    assert len(reads) == 2

    catalog.turn_on(lambda: False)
    catalog.client("a", load)
    catalog.client("a", load)
    assert len(reads) == 3


def test_a_change_notice_forgets_everything_held() -> None:
    catalog = Catalog()
    catalog.turn_on(lambda: False)
    load, reads = counting(Client(client_id="a"))
    catalog.client("a", load)
    catalog.forget(notice="client")
    catalog.client("a", load)
    assert len(reads) == 2 and catalog.last_notice == "client"


def test_a_notice_waiting_for_the_listener_sends_reads_to_the_database() -> None:
    waiting = [False]
    catalog = Catalog()
    catalog.turn_on(lambda: waiting[0])
    load, reads = counting(Client(client_id="a"))
    catalog.client("a", load)
    waiting[0] = True
    catalog.client("a", load)
    catalog.client("a", load)
    assert len(reads) == 3


def test_a_row_read_while_a_change_was_notified_is_not_held() -> None:
    catalog = Catalog()
    catalog.turn_on(lambda: False)

    def load_during_a_change() -> Client | None:
        catalog.forget(notice="client")  # the notice arrives while the old row is being read
        return Client(client_id="a", name="old")

    catalog.client("a", load_during_a_change)
    load, reads = counting(Client(client_id="a", name="new"))
    assert catalog.client("a", load).name == "new"  # type: ignore[union-attr]
    assert len(reads) == 1


def test_an_unknown_client_is_not_held() -> None:
    catalog = Catalog()
    catalog.turn_on(lambda: False)
    missing, reads = counting(None)
    assert catalog.client("new", missing) is None
    found, _ = counting(Client(client_id="new"))
    assert catalog.client("new", found) is not None  # registered a moment later: found at once
    assert len(reads) == 1


def test_turned_off_it_forgets_and_holds_nothing() -> None:
    catalog = Catalog()
    catalog.turn_on(lambda: False)
    load, reads = counting(Client(client_id="a"))
    catalog.client("a", load)
    catalog.turn_off()
    catalog.client("a", load)
    catalog.client("a", load)
    assert len(reads) == 3 and not catalog.live


# On PostgreSQL, against a migrated database with its change triggers.


@dataclass
class Instance:
    """One broker instance's engine, catalog and listener."""

    engine: Engine
    catalog: Catalog
    listener: CatalogListener

    def client(self, client_id: str) -> Client | None:
        with make_sessionmaker(self.engine)() as db:
            return OidcRepository(db, self.catalog).client(client_id)

    def rename(self, client_id: str, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(Client).where(Client.client_id == client_id).values(name=name))


@pytest.fixture
def instance(postgres_database: str) -> Iterator[Instance]:
    engine = make_engine(postgres_database)
    catalog = Catalog()
    listener = CatalogListener(engine, catalog)
    listener.retry_seconds = 0.1
    listener.start()
    wait_for(lambda: catalog.live)  # its first heartbeat came back
    yield Instance(engine, catalog, listener)
    listener.stop()
    engine.dispose()


def registered(engine: Engine) -> str:
    with transaction(make_sessionmaker(engine)) as db:
        new = NewClient(name=f"Catalog {uuid.uuid4().hex[:6]}", redirect_uris=["https://rp.example/cb"])
        client, _ = register_client(db, new, datetime.now(UTC), operator_approves=True)
        return client.client_id


@pytest.mark.postgres
def test_the_instance_s_own_change_is_read_at_once(instance: Instance) -> None:
    client_id = registered(instance.engine)
    settle(instance.engine, instance.catalog)
    assert instance.client(client_id).name.startswith("Catalog")  # type: ignore[union-attr]
    assert instance.client(client_id) is instance.client(client_id)  # held
    instance.rename(client_id, "Renamed")
    assert instance.client(client_id).name == "Renamed"  # type: ignore[union-attr]


@pytest.mark.postgres
def test_a_change_made_elsewhere_is_read_once_its_notice_arrives(
    instance: Instance, postgres_database
) -> None:
    client_id = registered(instance.engine)
    instance.client(client_id)
    other = make_engine(postgres_database)  # another instance, the command line, or psql
    try:
        with other.begin() as conn:
            conn.execute(update(Client).where(Client.client_id == client_id).values(name="Renamed"))
    finally:
        other.dispose()
    wait_for(lambda: instance.client(client_id).name == "Renamed")  # type: ignore[union-attr]
    assert instance.catalog.last_notice == "client"


@pytest.mark.postgres
def test_the_catalog_turns_off_when_its_connection_is_lost_and_back_on(instance: Instance) -> None:
    client_id = registered(instance.engine)
    held = instance.client(client_id)
    with instance.engine.begin() as conn:
        killed = conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": instance.listener.name},
        ).all()
    assert killed, "the listener's connection was not found"
    wait_for(lambda: instance.client(client_id) is not held)  # forgotten when the connection went
    wait_for(lambda: instance.catalog.live)  # and listening again


@pytest.mark.postgres
def test_a_listener_whose_notices_stop_arriving_turns_the_catalog_off(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As behind a pooler in transaction mode, or on a connection cut without a word: the listener's
    own heartbeat notice does not come back, so it cannot be trusted to hear changes either."""
    client_id = registered(instance.engine)
    instance.client(client_id)
    monkeypatch.setattr(Heartbeat, "interval", 0.1)
    monkeypatch.setattr(Heartbeat, "patience", 0.2)

    def lost(heartbeat: Heartbeat) -> None:  # sent, never delivered
        heartbeat.waiting, heartbeat.sent_at = "lost", time.monotonic()

    monkeypatch.setattr(Heartbeat, "send", lost)
    wait_for(lambda: not instance.catalog.live)
    assert instance.client(client_id) is not instance.client(client_id)  # nothing held


def test_sqlite_has_no_listener(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'broker.db'}")
    catalog = Catalog()
    listener = CatalogListener(engine, catalog)
    listener.start()
    time.sleep(0.2)
    assert not catalog.live
    listener.stop()
    engine.dispose()
