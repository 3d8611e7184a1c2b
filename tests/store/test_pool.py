"""PostgreSQL connections are pinged at check-out only after they have been idle: a busy pool costs
no round trip per request, and a connection the database closed while it was idle (a restart, a
failover) is replaced before any request sees it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from broker.store import db
from broker.store.db import make_engine

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(postgres_database: str) -> Iterator[Engine]:
    engine = make_engine(postgres_database)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        seen.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def backend_pid(engine: Engine) -> int:
    with engine.begin() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_busy_connection_is_not_pinged(engine: Engine, pings: list[int]) -> None:
    first = backend_pid(engine)  # a new connection: pinged once, as it has never been used
    for _ in range(5):
        assert backend_pid(engine) == first
    assert len(pings) <= 1


def test_an_idle_connection_the_database_closed_is_replaced_unseen(
    engine: Engine, pings: list[int], postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = backend_pid(engine)
    other = make_engine(postgres_database)
    with other.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
    other.dispose()
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)  # as if the connection had been idle a while
    pings.clear()

    after = backend_pid(engine)  # no error: the dead connection was found at check-out and replaced
    assert after != before and pings
