"""Back-channel notices against a live receiver on 127.0.0.1: a refusal (4xx) is given up at once and
recorded, "not now" (5xx, 429, 408, a timeout) is retried with back-off, and every ending is counted in
broker_backchannel_notices_total at /metrics, by kind and outcome only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from structlog.testing import capture_logs

from broker.app import create_app
from broker.deps import utc_now
from broker.observability import metrics_app
from broker.observability_metrics import Metrics
from broker.oidc.backchannel import BackchannelSender
from broker.oidc.backchannel_policy import MAX_ATTEMPTS
from broker.oidc.clients import NewClient, register_client
from broker.outbound.client import outbound_client
from broker.store.db import transaction
from broker.store.models import BackchannelLogout
from tests.oidc.http_listener import listening

SUB = "urn:fdc:gov.uk:2022:person-pairwise-sub"
SID = "session-id-of-the-person"


class FakeSigner:
    def sign(self, claims, *, alg="ES256", typ=None, kid_prefix=""):
        return f"signed-{typ}"


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self):
        return self.now


def _queue(session_factory, uri: str, now, kind: str = "logout") -> str:
    """A service listening at ``uri`` and one notice of ``kind`` due for it; the service's client_id."""
    with transaction(session_factory) as db:
        client, _ = register_client(
            db,
            NewClient(
                name="S",
                redirect_uris=["https://rp.example/cb"],
                backchannel_logout_uri=uri if kind == "logout" else None,
                security_event_uri=uri if kind != "logout" else None,
            ),
            now,
            allow_private_outbound=True,
            operator_approves=True,
        )
        db.add(
            BackchannelLogout(
                client_id=client.client_id,
                session_id=SID,
                sub=SUB,
                kind=kind,
                event={"previous_level": "P2", "current_level": "P0"},
                created_at=now,
                next_attempt_at=now,
            )
        )
        return client.client_id


def _sender(session_factory, clock, metrics=None) -> BackchannelSender:
    return BackchannelSender(
        session_factory,
        FakeSigner(),
        "https://broker.example",
        clock,
        allow_private_outbound=True,
        metrics=metrics or Metrics(),
    )


def _count(metrics: Metrics, kind: str, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "broker_backchannel_notices_total", {"kind": kind, "outcome": outcome}
    )
    return value or 0.0


def _row(session_factory) -> BackchannelLogout:
    with session_factory() as db:
        return db.scalars(select(BackchannelLogout)).one()


@pytest.mark.parametrize("status", [400, 401, 410])
def test_a_notice_the_service_refuses_is_given_up_at_once(session_factory, status):
    clock, metrics = Clock(), Metrics()
    with listening() as listener:
        client_id = _queue(session_factory, listener.url(f"/status/{status}"), clock.now)
        sender = _sender(session_factory, clock, metrics)
        with capture_logs() as logs:
            assert sender.deliver_due() == 1
        clock.now += timedelta(days=1)  # long after any back-off: nothing is due again
        assert sender.deliver_due() == 0
        assert len(listener.seen) == 1
    row = _row(session_factory)
    assert (row.attempts, row.last_error, row.delivered_at) == (1, f"HTTP {status}", None)
    assert row.gave_up_at is not None
    assert _count(metrics, "logout", "refused") == 1
    assert _count(metrics, "logout", "failed_after_retries") == 0
    [warning] = [e for e in logs if e["log_level"] == "warning"]
    assert warning["client_id"] == client_id and warning["outcome"] == "refused"
    # The client and the status only: no URI, no sub, no session, no token.
    values = " ".join(str(v) for v in warning.values())
    assert not any(secret in values for secret in (SUB, SID, "127.0.0.1", "/status", "signed-logout"))


@pytest.mark.parametrize("status", [503, 429, 408])
def test_a_notice_the_service_cannot_take_now_is_retried_with_back_off(session_factory, status):
    clock, metrics = Clock(), Metrics()
    with listening() as listener:
        _queue(session_factory, listener.url(f"/status/{status}"), clock.now)
        sender = _sender(session_factory, clock, metrics)
        assert sender.deliver_due() == 1
        row = _row(session_factory)
        assert (row.attempts, row.last_error, row.gave_up_at) == (1, f"HTTP {status}", None)
        assert row.next_attempt_at == clock.now + timedelta(seconds=5)
        assert sender.deliver_due() == 0  # not before its time
        clock.now += timedelta(seconds=5)
        assert sender.deliver_due() == 1
        assert len(listener.seen) == 2
    assert _row(session_factory).next_attempt_at == clock.now + timedelta(seconds=10)
    assert sum(_count(metrics, "logout", o) for o in ("delivered", "refused", "failed_after_retries")) == 0


def test_a_receiver_that_times_out_is_retried(session_factory):
    clock = Clock()
    with listening() as listener:
        _queue(session_factory, listener.url("/slow"), clock.now)
        sender = _sender(session_factory, clock)
        sender.http = outbound_client(allow_private=True, timeout=5, total_timeout=0.5)
        assert sender.deliver_due() == 1
    row = _row(session_factory)
    assert row.last_error == "ReadTimeout" and row.gave_up_at is None and row.attempts == 1


def test_a_notice_nobody_answers_fails_after_its_retries_and_is_counted(session_factory):
    clock, metrics = Clock(), Metrics()
    with listening() as listener:
        _queue(session_factory, listener.url("/status/503"), clock.now)
        sender = _sender(session_factory, clock, metrics)
        for _ in range(MAX_ATTEMPTS):
            assert sender.deliver_due() == 1
            clock.now += timedelta(hours=1)
        assert sender.deliver_due() == 0
        assert len(listener.seen) == MAX_ATTEMPTS
    row = _row(session_factory)
    assert row.attempts == MAX_ATTEMPTS and row.gave_up_at is not None and row.last_error == "HTTP 503"
    assert _count(metrics, "logout", "failed_after_retries") == 1
    assert _count(metrics, "logout", "refused") == 0


def test_a_security_event_refused_is_given_up_and_counted_apart_from_logouts(session_factory):
    clock, metrics = Clock(), Metrics()
    with listening() as listener:
        _queue(session_factory, listener.url("/status/400"), clock.now, kind="assurance_level_change")
        _sender(session_factory, clock, metrics).deliver_due()
        assert [s.body for s in listener.seen] == [b"signed-secevent+jwt"]
    assert _row(session_factory).gave_up_at is not None
    assert _count(metrics, "security_event", "refused") == 1
    assert _count(metrics, "logout", "refused") == 0


def test_a_delivered_notice_is_counted(session_factory):
    clock, metrics = Clock(), Metrics()
    with listening() as listener:
        _queue(session_factory, listener.url("/backchannel-logout"), clock.now)
        _sender(session_factory, clock, metrics).deliver_due()
    assert _row(session_factory).delivered_at is not None
    assert _count(metrics, "logout", "delivered") == 1


def test_metrics_expose_each_outcome_by_kind_without_uris_or_people(settings):
    app = create_app(settings)
    services = app.state.services
    with listening() as listener:
        for path in ("/backchannel-logout", "/status/400"):
            _queue(services.session_factory, listener.url(path), utc_now())
        assert app.state.backchannel.deliver_due() == 2
        assert len(listener.seen) == 2
    text = TestClient(metrics_app(services)).get("/metrics").text
    assert 'broker_backchannel_notices_total{kind="logout",outcome="delivered"} 1.0' in text
    assert 'broker_backchannel_notices_total{kind="logout",outcome="refused"} 1.0' in text
    assert 'broker_backchannel_notices_total{kind="logout",outcome="failed_after_retries"} 0.0' in text
    assert 'broker_backchannel_notices_total{kind="security_event",outcome="refused"} 0.0' in text
    series = [line for line in text.splitlines() if line.startswith("broker_backchannel_notices_total")]
    assert len(series) == 6
    assert not any("127.0.0.1" in line or "client" in line or SUB in line for line in series)
    services.engine.dispose()
