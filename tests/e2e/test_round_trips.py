"""The silent flow of a signed-in person costs a known number of database statements: each read the
flow needs is made once (the session with its account, the agreement and the consent once per
request, or on PostgreSQL the service and its agreement not at all: they are held in memory, the code claimed with UPDATE … RETURNING, participation recorded with one upsert). A change
that adds a statement to this path fails here, so it is made on purpose (see bench/README.md)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from broker.notify.sender import OutboxSender
from broker.oidc.backchannel import BackchannelSender
from broker.store.catalog import CatalogListener
from tests.catalog import settle
from tests.e2e.agent import UserAgent

SQL = ("SELECT", "INSERT", "UPDATE", "DELETE")
# The background senders poll the same database on their own threads, and the catalog listener sends
# its heartbeat every 10 s on its own: their statements are not the flow's.
WORKERS = {OutboxSender.name, BackchannelSender.name, CatalogListener.name}
# The signer re-reads its keys every 15 seconds (keys/signer.py) on whichever request comes then: a
# timer's read, not the flow's.
KEY_REFRESH = "FROM signing_key"
# Reads of the catalog: a service and its MOU versions (on PostgreSQL held in memory between changes).
CATALOG = re.compile(r"FROM (client|mou_version)\b")


@contextmanager
def statements(broker) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many) -> None:
        if threading.current_thread().name in WORKERS:
            return
        if statement.lstrip().upper().startswith(SQL) and KEY_REFRESH not in statement:
            seen.append(statement)

    event.listen(broker.services.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(broker.services.engine, "before_cursor_execute", count)


def own(statements: list[str]) -> list[str]:
    """The flow's own statements, without reads of the catalog (clients and MOU versions)."""
    return [s for s in statements if not CATALOG.search(s)]


def test_a_silent_flow_reads_each_fact_once(broker, make_rp, person):
    rp = make_rp()
    if broker.services.engine.dialect.name == "postgresql":
        settle(
            broker.services.engine, broker.services.catalog
        )  # registering the service was a change: the catalog forgot everything
    ua = UserAgent(broker)
    rp.redeem(ua.authorize(rp.authorization_url(), email=person))  # signs in and agrees once

    with statements(broker) as authorize:
        callback = ua.authorize(rp.authorization_url())
    with statements(broker) as token:
        tokens = rp.redeem(callback)
    with statements(broker) as userinfo:
        claims = rp.userinfo(tokens["access_token"]).json()
    ua.close()

    assert claims["email"] == person
    catalog_reads = [s for s in authorize + token + userinfo if CATALOG.search(s)]
    if broker.services.catalog.live:  # PostgreSQL: the service and its agreement are held in memory
        assert catalog_reads == []
    else:  # SQLite: client and agreement at authorize and at the token endpoint, agreement at userinfo
        assert len(catalog_reads) == 5, catalog_reads
    # session + account, consent; grant, code, participation
    assert len(own(authorize)) == 5, authorize
    # code claimed, grant + account; access token
    assert len(own(token)) == 3, token
    # access token + grant + account, consent; release ledger
    assert len(own(userinfo)) == 3, userinfo
    assert sum("FROM consent" in s for s in authorize + userinfo) == 2
