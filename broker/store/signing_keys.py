"""The broker's ``keys.KeyStore``: signing keys in the ``signing_key`` table.

Safe when several broker processes share a database: a change runs in one transaction that locks the
algorithm's keys first (PostgreSQL advisory lock; SQLite takes its write lock at BEGIN), and the partial
unique indexes forbid two current or two next keys as a last line of defence (a change that breaks one
is reported as ``ConcurrentChange`` and tried again by the key service).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from broker.store.db import make_engine, make_read_only_sessionmaker, make_sessionmaker, transaction
from broker.store.models import SigningKey
from keys import KeyService, envelope
from keys.errors import ConcurrentChange
from keys.lifecycle import CURRENT, RETIRED
from keys.store import StoredKey


def _stored(row: SigningKey) -> StoredKey:
    return StoredKey(
        kid=row.kid,
        alg=row.alg,
        state=row.state,
        public_jwk=row.public_jwk,
        wrapped_private_key=row.wrapped_private_key,
        created_at=row.created_at,
        activated_at=row.activated_at,
        retired_at=row.retired_at,
    )


class _Changes:
    def __init__(self, db: Session, alg: str) -> None:
        self.db = db
        self.rows = {r.kid: r for r in db.scalars(select(SigningKey).where(SigningKey.alg == alg))}

    def stored(self) -> list[StoredKey]:
        return [_stored(r) for r in self.rows.values()]

    def delete(self, kid: str) -> None:
        self.db.delete(self.rows.pop(kid))
        self.db.flush()

    def retire(self, kid: str, now: datetime) -> None:
        self.rows[kid].state, self.rows[kid].retired_at = RETIRED, now
        self.db.flush()

    def promote(self, kid: str, now: datetime) -> None:
        self.rows[kid].state, self.rows[kid].activated_at = CURRENT, now
        self.db.flush()

    def add(self, key: StoredKey) -> None:
        row = SigningKey(
            kid=key.kid,
            alg=key.alg,
            state=key.state,
            public_jwk=key.public_jwk,
            wrapped_private_key=key.wrapped_private_key,
            created_at=key.created_at,
            activated_at=key.activated_at,
            retired_at=key.retired_at,
        )
        self.db.add(row)
        self.db.flush()
        self.rows[key.kid] = row


class SqlKeyStore:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory
        self.reader = make_read_only_sessionmaker(session_factory.kw["bind"])

    def all(self) -> list[StoredKey]:
        with self.reader() as db:
            rows = db.scalars(select(SigningKey).order_by(SigningKey.alg, SigningKey.created_at)).all()
            return [_stored(r) for r in rows]

    def get(self, kid: str) -> StoredKey | None:
        with self.reader() as db:
            row = db.get(SigningKey, kid)
            return _stored(row) if row else None

    @contextmanager
    def changing(self, alg: str) -> Iterator[_Changes]:
        try:
            with transaction(self.session_factory) as db:
                _lock(db, alg)
                yield _Changes(db, alg)
        except IntegrityError as exc:
            raise ConcurrentChange(f"{alg} keys changed by another process") from exc


def _lock(db: Session, alg: str) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(f"signing-key:{alg}".encode())})


def build_key_service(settings: Any, engine: Engine | None = None) -> KeyService:
    """The key service for these settings; the KEK is generated only outside production."""
    kek = envelope.load_kek(settings.key_encryption_key_file, create=settings.env != "production")
    engine = engine or make_engine(settings.database_url)
    return KeyService(SqlKeyStore(make_sessionmaker(engine)), kek, max_token_ttl=settings.max_signed_token_ttl)
