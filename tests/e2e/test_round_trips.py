"""The silent flow of a signed-in person costs a known number of database statements: each read the
flow needs is made once (the session with its account, the agreement and the consent once per
request, the code claimed with UPDATE … RETURNING, participation recorded with one upsert). A change
that adds a statement to this path fails here, so it is made on purpose (see bench/README.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from broker.notify.sender import OutboxSender
from broker.oidc.backchannel import BackchannelSender
from tests.e2e.agent import UserAgent

SQL = ("SELECT", "INSERT", "UPDATE", "DELETE")
# The background senders poll the same database on their own threads; their statements are not the flow's.
WORKERS = {OutboxSender.name, BackchannelSender.name}
# The signer re-reads its keys every 15 seconds (keys/signer.py) on whichever request comes then: a
# timer's read, not the flow's.
KEY_REFRESH = "FROM signing_key"


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


def test_a_silent_flow_reads_each_fact_once(broker, make_rp, person):
    rp = make_rp()
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
    # session + account, client, agreement, consent; grant, code, participation
    assert len(authorize) == 7, authorize
    # client, code claimed, grant + account, agreement; access token
    assert len(token) == 5, token
    # access token + grant + account, agreement, consent; release ledger
    assert len(userinfo) == 4, userinfo
    assert sum("FROM consent" in s for s in authorize + userinfo) == 2
