"""Relying services and their agreements, held in memory between changes.

Every protocol request reads its client and the versions of the client's MOU: rows that change a few
times a year and are read several times a second. On PostgreSQL the broker holds them in memory and
forgets them all whenever any instance, or the command line, changes a client or an MOU: triggers on
``client``, ``mou`` and ``mou_version`` (migration 0010) send a notification on the ``broker_catalog``
channel as the change commits, and a listener thread in each instance clears its catalog as it
arrives. Until the listener has heard its own first heartbeat notice (at start-up, and after it loses
its connection or a heartbeat) the catalog holds nothing and every read goes to the database, so a
change is never missed for want of a listener. The instance's own changes are forgotten as they
commit. A request that finds a notice waiting on the listener's connection, not yet taken, reads the
database too; the one window left is the notice's way from the database to the broker. SQLite has
no notifications: there the catalog stays off and every request reads the database (a local file).

Only rows that exist are held: a client registered a moment ago is found on its first request."""

from __future__ import annotations

import re
import select
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
import structlog
from sqlalchemy import Connection, Engine, event, text

from broker.store.models import Client, MouVersion

log = structlog.get_logger(__name__)

CHANNEL = "broker_catalog"
TABLES = ("client", "mou", "mou_version")
# The triggers migration 0010 installs; without every one of them the catalog stays off.
TRIGGERS = tuple(f"{table}_catalog_changed" for table in TABLES)

T = TypeVar("T")


class Catalog:
    """Clients and their MOU versions by client id, while ``live`` (a listener is connected)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live = False
        # Whether a change notice has arrived that the listener has not taken yet.
        self._notice_waiting: Callable[[], bool] = lambda: False
        self._generation = 0
        self._clients: dict[str, Client] = {}
        self._versions: dict[str, list[MouVersion]] = {}
        self.last_notice = ""  # the payload of the last change notice (a table name)

    @property
    def live(self) -> bool:
        return self._live

    def client(self, client_id: str, load: Callable[[], Client | None]) -> Client | None:
        return self._held(self._clients, client_id, load)

    def versions(self, client_id: str, load: Callable[[], list[MouVersion]]) -> list[MouVersion]:
        return self._held(self._versions, client_id, load)

    def _held(self, held: dict[str, Any], key: str, load: Callable[[], T]) -> T:
        found = held.get(key)
        if found is not None and not self._notice_waiting():
            return found  # type: ignore[no-any-return]
        generation = self._generation
        value = load()
        with self._lock:
            # A change that arrived while the row was being read may have come after the read.
            if self._live and value is not None and generation == self._generation:
                held[key] = value
        return value

    def forget(self, *, notice: str | None = None) -> None:
        """Drop everything held: a change was notified."""
        with self._lock:
            self._generation += 1
            if notice is not None:
                self.last_notice = notice
            self._clients.clear()
            self._versions.clear()

    def turn_on(self, notice_waiting: Callable[[], bool]) -> None:
        """A listener is connected from now on; ``notice_waiting`` tells whether a notice awaits it."""
        with self._lock:
            self._notice_waiting = notice_waiting
            self._live = True
        self.forget()  # anything read before the listener was connected

    def turn_off(self) -> None:
        with self._lock:
            self._live = False
            self._notice_waiting = lambda: False
        self.forget()


class CatalogListener:
    """Clears the catalog on every notification of a change; on PostgreSQL only."""

    name = "catalog-listener"
    retry_seconds = 1.0

    def __init__(self, engine: Engine, catalog: Catalog) -> None:
        self.engine = engine
        self.catalog = catalog
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.engine.dialect.name != "postgresql":
            return
        # This instance's own changes are forgotten as they commit, without waiting for the notice.
        event.listen(self.engine, "before_cursor_execute", _note_change)
        event.listen(self.engine, "commit", self._forget_own_change)
        event.listen(self.engine, "rollback", _drop_note)
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
            event.remove(self.engine, "before_cursor_execute", _note_change)
            event.remove(self.engine, "commit", self._forget_own_change)
            event.remove(self.engine, "rollback", _drop_note)

    def _forget_own_change(self, conn: Connection) -> None:
        if conn.info.pop(CHANGED, False):
            self.catalog.forget()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # noqa: BLE001 - any failure: stop holding rows, reconnect
                log.warning("catalog listener disconnected", error=type(exc).__name__)
            finally:
                self.catalog.turn_off()
            self._stop.wait(self.retry_seconds)

    def _listen(self) -> None:
        conninfo = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True, application_name=self.name) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            if not _triggers_installed(conn):
                log.warning("catalog off: the database has no change triggers (run broker migrate)")
                self._stop.wait()
                return
            heartbeat = Heartbeat(self.engine)
            heartbeat.send()
            socket = conn.pgconn.socket
            while not self._stop.is_set():
                for notice in conn.notifies(timeout=1.0):
                    if not heartbeat.answered(notice.payload):
                        self.catalog.forget(notice=notice.payload)
                    elif not self.catalog.live:  # notices do arrive here: from now on none is missed
                        self.catalog.turn_on(lambda: bool(select.select([socket], [], [], 0)[0]))
                heartbeat.check()


class Heartbeat:
    """A notice the listener sends itself through the pool every ``interval`` seconds: until the
    first arrives the catalog stays off, and one that does not arrive within ``patience`` seconds
    ends the connection. So a listener that hears nothing (a pooler in transaction mode drops
    notices; a connection silently cut) is never taken for one that heard no change."""

    interval = 10.0
    patience = 5.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.waiting: str | None = None
        self.sent_at = 0.0

    def send(self) -> None:
        self.waiting = f"heartbeat-{uuid.uuid4().hex}"
        self.sent_at = time.monotonic()
        with self.engine.begin() as conn:
            conn.execute(
                text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": self.waiting}
            )

    def answered(self, payload: str) -> bool:
        if payload != self.waiting:
            return False
        self.waiting = None
        return True

    def check(self) -> None:
        elapsed = time.monotonic() - self.sent_at
        if self.waiting is not None and elapsed > self.patience:
            raise NoticesLost("a heartbeat notice did not arrive")
        if self.waiting is None and elapsed > self.interval:
            self.send()


class NoticesLost(Exception):
    pass


CHANGED = "broker_catalog_changed"
# A statement that writes one of the catalog's tables (as SQLAlchemy and psql write them).
WRITES = re.compile(
    r'^\s*(?:(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(?:client|mou|mou_version)"?[\s(]'
    r"|TRUNCATE\b[^;]*\b(?:client|mou|mou_version)\b(?!_))",
    re.IGNORECASE,
)


def _note_change(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
    if statement[:1] in "IUDTiudt" and WRITES.match(statement):
        conn.info[CHANGED] = True


def _drop_note(conn: Connection) -> None:
    conn.info.pop(CHANGED, None)


def _triggers_installed(conn: psycopg.Connection[Any]) -> bool:
    rows = conn.execute(
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname = ANY(%s)", [list(TRIGGERS)]
    ).fetchall()
    return {name for (name,) in rows} == set(TRIGGERS)
