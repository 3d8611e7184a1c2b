"""Shared fixtures: settings, databases (SQLite always, PostgreSQL where BROKER_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from broker.config import Settings, load_settings
from broker.store.db import make_engine, make_sessionmaker
from broker.store.migrate import upgrade

POSTGRES_URL = os.environ.get("BROKER_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("BROKER_TEST_REDIS_URL")

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _pg_url(database: str) -> str:
    assert POSTGRES_URL
    url = make_url(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    return url.set(database=database).render_as_string(hide_password=False)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL database, migrated to head, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests skipped: BROKER_TEST_POSTGRES_URL is not set")
    name = f"broker_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        _pg_url(make_url(POSTGRES_URL).database or "postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg_url(name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The run's PostgreSQL database for storage tests (emptied after each test)."""
    with fresh_postgres_database() as url:
        yield url


def _truncate_all(engine: Engine) -> None:
    from broker.store.models import Base

    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head once for the run: each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("migrated") / "broker.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection closing folds the write-ahead log into the file
    return path


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL: a fresh SQLite file, or the run's PostgreSQL database emptied after use."""
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), tmp_path / "broker.db")
        yield f"sqlite:///{tmp_path / 'broker.db'}"
        return
    url = request.getfixturevalue("postgres_database")
    yield url
    engine = make_engine(url)
    _truncate_all(engine)
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(
        env="test",
        database_url=database_url,
        key_encryption_key_file=tmp_path / "kek",
        audit_checkpoint_file=tmp_path / "audit-checkpoints",
        issuer="http://127.0.0.1:8000",
    )


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """One headless Debian Chromium for the run (Playwright drives it; it never downloads a browser)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Modules whose tests share an expensive module-scoped fixture (a cluster of processes, a live broker of
# their own) run on one worker, so it is built once. The other tests go one by one to whichever worker is
# free. (xdist's --dist loadgroup would do this from xdist_group marks, but with pytest 9.2 it no longer
# groups anything: pytest-dev/pytest-xdist#1386.)
ONE_WORKER_MODULES = {
    "tests/deploy/test_cluster.py",
    "tests/e2e/test_passkeys_browser.py",
    "tests/e2e/test_admin_browser.py",
}


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModulesTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in ONE_WORKER_MODULES else nodeid

    return ModulesTogether(config, log)  # type: ignore[arg-type]


def _long(item: pytest.Item) -> bool:
    """The deployment tests (processes of their own, 10 to 60 s each) and the type check (20 s)."""
    path = item.path.as_posix()
    return "/tests/deploy/" in path or path.endswith("/tests/test_code_quality.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests that share no live broker with others go first, so the run does not end with one
    worker finishing one of them while the others have nothing left to do."""
    items.sort(key=lambda item: not _long(item))


@pytest.fixture(scope="session", autouse=True)
def quiet_logs() -> None:
    """Live servers run in threads outside pytest's capture: keep their access lines out of the output."""
    from broker.logs import configure_logging

    configure_logging(load_settings(log_level="warning"))
