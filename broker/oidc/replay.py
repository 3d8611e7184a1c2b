"""Replay caches for one-time values (client assertion ``jti``): Redis when configured, else the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from broker.store.fast import Statement
from broker.store.models import SeenJti


class ReplayCache(Protocol):
    def first_use(self, db: Session, key: str, ttl_seconds: int, now: datetime) -> bool:
        """Record ``key``; True the first time it is seen within ``ttl_seconds``."""
        ...


# Both run on every private_key_jwt token request: without the ORM (broker.store.fast).
_FORGET_EXPIRED = Statement(
    delete(SeenJti).where(SeenJti.key == bindparam("key"), SeenJti.expires_at < bindparam("now"))
)
_RECORD = {
    name: Statement(
        dialect_insert(SeenJti)
        .values(key=bindparam("key"), expires_at=bindparam("expires_at"))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(SeenJti.key)
    )
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


class DatabaseReplayCache:
    def first_use(self, db: Session, key: str, ttl_seconds: int, now: datetime) -> bool:
        _FORGET_EXPIRED.run(db, key=key, now=now)
        record = _RECORD[db.get_bind().dialect.name]
        return record.first(db, key=key, expires_at=now + timedelta(seconds=ttl_seconds)) is not None


class RedisReplayCache:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)

    def first_use(self, db: Session, key: str, ttl_seconds: int, now: datetime) -> bool:
        return bool(self._redis.set(f"broker:replay:{key}", b"1", nx=True, ex=max(ttl_seconds, 1)))


def make_replay_cache(redis_url: str | None) -> ReplayCache:
    return RedisReplayCache(redis_url) if redis_url else DatabaseReplayCache()
