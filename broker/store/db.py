"""Engines and sessions. Nothing here is built at import time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # As many pooled connections as the threadpool has threads (40), opened as needed: a pool
    # smaller than the threads that use it opens and closes an overflow connection per request
    # under load (a new PostgreSQL backend each time), which cost more than the request itself.
    kwargs.setdefault("pool_size", 40)
    kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_when_idle(engine)
    return engine


# A connection used in the last few seconds is handed out as it is: under load every connection is
# in use all the time, and a ping at every check-out (pool_pre_ping) was a round trip on every request.
# One that has been idle longer, when a restart or a failover may have closed it unseen, is pinged
# first, and a dead one is replaced before the request sees it. A connection that dies while in use
# fails its request either way, and SQLAlchemy then replaces every connection the pool holds.
IDLE_BEFORE_PING = 2.0
LAST_USED = "broker_last_used"


def ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(LAST_USED, 0.0) < IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection was closed") from exc

    @event.listens_for(engine, "checkin")
    def _used(_dbapi_connection: Any, record: Any) -> None:
        record.info[LAST_USED] = time.monotonic()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # One writer at a time, taken at BEGIN: read-then-write transactions cannot interleave.
    # Read-only sessions (see read_only) begin deferred, so they never wait on a writer, even one
    # held by the same thread.
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


READ_ONLY = "broker_read_only"


def upsert_insert(db: Session) -> Any:
    """The dialect's ``insert`` (it has ``on_conflict_do_nothing`` / ``on_conflict_do_update``)."""
    return postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert


def make_sessionmaker(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """``info`` is copied into every session's ``Session.info`` (e.g. the audit log's address key)."""
    return sessionmaker(engine, expire_on_commit=False, info=info or {})


def make_read_only_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads only: on SQLite they take no write lock."""
    return sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
