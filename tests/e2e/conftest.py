"""A live broker on a free port, driven over HTTP, plus helpers to register clients and accounts."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker

from broker.accounts.passwords import PasswordService
from broker.accounts.service import AccountService
from broker.app import build_services, create_app
from broker.config import Settings, load_settings
from broker.deps import Services, utc_now
from broker.oidc.clients import NewClient, register_client
from broker.store.db import transaction
from tests.conftest import DATABASES, REDIS_URL, fresh_postgres_database
from tests.e2e.receiver import Receiver


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveBroker:
    url: str
    settings: Settings
    services: Services
    offset: list[timedelta] = field(default_factory=lambda: [timedelta(0)])

    def travel(self, delta: timedelta) -> None:
        """Move the broker's clock (for waits like lockouts), without sleeping."""
        self.offset[0] += delta

    @property
    def db(self) -> sessionmaker[Session]:
        return self.services.session_factory

    def create_account(self, email: str, password: str = "correct horse battery staple") -> str:
        with transaction(self.db) as db:
            return (
                AccountService(db, self.services.passwords)
                .create(email, password, verified=True, now=utc_now())
                .id
            )

    def create_client(self, **kwargs: object) -> dict[str, object]:
        kwargs.setdefault("name", "Test service")
        kwargs.setdefault("claims", ["email", "phone_number"])
        with transaction(self.db) as db:
            client, secret = register_client(
                db,
                NewClient(**kwargs),  # type: ignore[arg-type]
                self.services.clock(),
                allow_private_outbound=self.settings.outbound_allows_private,
                operator_approves=True,
            )
            return {
                "client_id": client.client_id,
                "client_secret": secret,
                "redirect_uri": client.redirect_uris[0],
            }


class Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # running in a thread
        pass


def start_server(app: object, port: int) -> tuple[Server, threading.Thread]:
    server = Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    return server, thread


# The live brokers hash passwords with argon2id at a low cost (one pass over 8 MiB: a few milliseconds,
# where the production parameters take 0.3 s of CPU for each sign-in and each new account, which was a
# third of these tests' time). The production parameters are asserted in tests/accounts/test_passwords.py
# and used by every test that runs `broker serve` as a process (tests/test_cli.py, tests/deploy), and by
# the password-guessing tests, where concurrent guesses overlap while each one hashes.
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
PRODUCTION_HASHING = {"test_throttling.py"}


@pytest.fixture(autouse=True)
def hashing_cost(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.path.name not in PRODUCTION_HASHING or "broker" not in request.fixturenames:
        yield
        return
    live: LiveBroker = request.getfixturevalue("broker")
    usual, live.services.passwords = live.services.passwords, PasswordService(concurrency=2)
    try:
        yield
    finally:
        live.services.passwords = usual


@pytest.fixture(scope="session", params=DATABASES)
def broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBroker]:
    """The live broker, on SQLite and (where configured) on PostgreSQL with Redis for replay checks."""
    with ExitStack() as stack:
        if request.param == "postgres":
            database_url, redis_url = stack.enter_context(fresh_postgres_database()), REDIS_URL
        else:
            database_url, redis_url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'broker.db'}", None
        yield stack.enter_context(live_broker(tmp_path_factory.mktemp("broker"), database_url, redis_url))


@contextmanager
def live_broker(
    var: Path, database_url: str, redis_url: str | None, host: str = "127.0.0.1"
) -> Iterator[LiveBroker]:
    port = free_port()
    settings = load_settings(
        env="test",
        database_url=database_url,
        redis_url=redis_url,
        key_encryption_key_file=Path(var / "kek"),
        issuer=f"http://{host}:{port}",
    )
    services = build_services(settings)
    services.passwords = PasswordService(concurrency=2, hasher=TEST_HASHER)
    live = LiveBroker(settings.issuer, settings, services)
    services.clock = lambda: utc_now() + live.offset[0]
    server, thread = start_server(create_app(settings, services), port)
    yield live
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    """A relying service's back-channel logout endpoint that records what it is sent."""
    port = free_port()
    rec = Receiver(f"http://127.0.0.1:{port}")
    server, thread = start_server(rec.app, port)
    yield rec
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def clock(broker: LiveBroker) -> Iterator[LiveBroker]:
    """The broker, with its clock put back after the test."""
    yield broker
    broker.offset[0] = timedelta(0)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


# Relying services and people, fresh for each test.
import uuid
from collections.abc import Callable

from tests.e2e.agent import UserAgent
from tests.e2e.rp import RelyingParty, make_rp_key


@pytest.fixture
def make_rp(broker: LiveBroker) -> Callable[..., RelyingParty]:
    def factory(auth: str = "client_secret_basic", host: str = "localhost", **kwargs: object) -> RelyingParty:
        port = 9000 + len(kwargs)
        redirect_uri = f"http://{host}:{port}/callback/{uuid.uuid4().hex[:8]}"
        if auth == "private_key_jwt":
            key, jwks = make_rp_key()
            info = broker.create_client(redirect_uris=[redirect_uri], auth_method=auth, jwks=jwks, **kwargs)
            return RelyingParty(broker.url, str(info["client_id"]), redirect_uri, private_key=key)
        info = broker.create_client(redirect_uris=[redirect_uri], **kwargs)
        return RelyingParty(
            broker.url, str(info["client_id"]), redirect_uri, client_secret=str(info["client_secret"])
        )

    return factory


@pytest.fixture
def person(broker: LiveBroker) -> str:
    email = f"person-{uuid.uuid4().hex[:10]}@example.org"
    broker.create_account(email)
    return email


@pytest.fixture
def agent(broker: LiveBroker) -> Iterator[UserAgent]:
    ua = UserAgent(broker)
    yield ua
    ua.close()


# Browser fixtures (tests that use them skip where Debian's Chromium is missing).


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def page(request: pytest.FixtureRequest, chromium: object) -> Iterator[object]:
    """A fresh browser profile, with JavaScript on and off: every journey must work without it."""
    context = chromium.new_context(java_script_enabled=request.param)  # type: ignore[attr-defined]
    yield context.new_page()
    context.close()


@pytest.fixture
def rp(broker: LiveBroker, receiver: Receiver) -> RelyingParty:
    """A relying service whose callback is a real page (so the browser lands somewhere)."""
    back = f"{receiver.url}/callback"
    info = broker.create_client(redirect_uris=[back], post_logout_redirect_uris=[back])
    return RelyingParty(broker.url, str(info["client_id"]), back, client_secret=str(info["client_secret"]))


# Browser journeys (tests/e2e/*_browser.py) run on SQLite only, with JavaScript on and off: the pages do
# not change with the database, and what each journey stores is exercised on PostgreSQL by the HTTP
# journeys of the same features (test_code_flow, test_sessions, test_logout, test_accounts,
# test_security_settings, test_vouching, test_identity), which run on both databases.
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def browser_on_postgres(item: pytest.Item) -> bool:
        ids = getattr(getattr(item, "callspec", None), "id", "")
        return item.path.name.endswith("_browser.py") and "postgres" in ids

    dropped = [item for item in items if browser_on_postgres(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not browser_on_postgres(item)]
