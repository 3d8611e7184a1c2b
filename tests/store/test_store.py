"""Storage behaviours the services rely on, on every database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from broker.oidc.replay import DatabaseReplayCache
from broker.store.db import transaction
from broker.store.models import Account

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_datetimes_come_back_aware_and_in_utc(session_factory):
    local = NOW.astimezone(timezone(timedelta(hours=5)))
    with transaction(session_factory) as db:
        db.add(Account(id="a1", email="a@example.org", created_at=local))
    with session_factory() as db:
        stored = db.get(Account, "a1").created_at
    assert stored == NOW and stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(session_factory):
    with pytest.raises(Exception, match="naive"), transaction(session_factory) as db:
        db.add(Account(id="a2", email="b@example.org", created_at=datetime(2026, 1, 1)))
        db.flush()


def test_email_is_unique(session_factory):
    with transaction(session_factory) as db:
        db.add(Account(id="a3", email="same@example.org", created_at=NOW))
    with pytest.raises(IntegrityError), transaction(session_factory) as db:
        db.add(Account(id="a4", email="same@example.org", created_at=NOW))


def test_transaction_rolls_back_on_error(session_factory):
    with pytest.raises(RuntimeError), transaction(session_factory) as db:
        db.add(Account(id="a5", email="gone@example.org", created_at=NOW))
        db.flush()
        raise RuntimeError("boom")
    with session_factory() as db:
        assert db.get(Account, "a5") is None


def test_replay_cache_sees_a_value_once_until_it_expires(session_factory):
    cache = DatabaseReplayCache()
    with transaction(session_factory) as db:
        assert cache.first_use(db, "jti:1", 60, NOW) is True
        assert cache.first_use(db, "jti:1", 60, NOW + timedelta(seconds=30)) is False
        assert cache.first_use(db, "jti:2", 60, NOW) is True
    with transaction(session_factory) as db:
        assert cache.first_use(db, "jti:1", 60, NOW + timedelta(seconds=61)) is True
