"""One-time values (client assertion ``jti``) are accepted once, in Redis or in the database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from broker.oidc.replay import DatabaseReplayCache, RedisReplayCache, ReplayCache
from tests.conftest import REDIS_URL


def caches() -> list[object]:
    redis = pytest.param(
        "redis",
        marks=pytest.mark.skipif(
            not REDIS_URL, reason="Redis tests skipped: BROKER_TEST_REDIS_URL is not set"
        ),
    )
    return ["database", redis]


@pytest.fixture(params=caches())
def cache(request: pytest.FixtureRequest) -> ReplayCache:
    return RedisReplayCache(REDIS_URL or "") if request.param == "redis" else DatabaseReplayCache()


def test_a_value_is_accepted_once_and_others_are_independent(cache: ReplayCache, session_factory):
    now = datetime.now(UTC)
    key = f"client:{uuid.uuid4().hex}"
    with session_factory() as db:
        assert cache.first_use(db, key, 60, now) is True
        assert cache.first_use(db, key, 60, now) is False  # the replay
        assert cache.first_use(db, key + "-other", 60, now) is True
