"""Signing keys in the database: created, rotated, retired and pruned by the life-cycle plans.

Safe when several broker processes share a database: each change runs in one transaction that locks
the algorithm's key rows first (PostgreSQL advisory lock; SQLite takes its write lock at BEGIN), and
the partial unique indexes forbid two current or two next keys as a last line of defence.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from broker.store.db import make_engine, make_read_only_sessionmaker, make_sessionmaker, transaction
from broker.store.models import SigningKey
from keys import envelope, generate
from keys.derive import AUDIT_ADDRESS, IDENTITY_DOCUMENT, derive
from keys.errors import RotationRefused
from keys.lifecycle import CURRENT, NEXT, RETIRED, KeyState, Plan, plan_ensure, plan_retire, plan_rotation

ALGORITHMS = generate.ALGORITHMS


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class KeyInfo:
    """A key as operators see it: never the private half."""

    kid: str
    alg: str
    state: str
    created_at: datetime
    activated_at: datetime | None
    retired_at: datetime | None
    public_jwk: dict[str, Any]


class KeyService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        kek: bytes,
        *,
        max_token_ttl: int,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.session_factory = session_factory
        self.reader = make_read_only_sessionmaker(session_factory.kw["bind"])
        self.kek = kek
        self.retention = timedelta(seconds=max_token_ttl)
        self.clock = clock

    # Queries
    def list_keys(self) -> list[KeyInfo]:
        with self.reader() as db:
            rows = db.scalars(select(SigningKey).order_by(SigningKey.alg, SigningKey.created_at)).all()
            return [_info(r) for r in rows]

    def published(self) -> list[dict[str, Any]]:
        return [k.public_jwk for k in self.list_keys()]

    def current_private_keys(
        self, decrypted: Mapping[str, generate.PrivateKey] | None = None
    ) -> dict[str, tuple[str, generate.PrivateKey]]:
        """alg → (kid, private key), decrypted. Only the signer calls this, and caches the result;
        it passes the keys it already holds (kid → key) so only a newly current key is unwrapped."""
        return self.keyring(decrypted or {})[0]

    def keyring(
        self, decrypted: Mapping[str, generate.PrivateKey]
    ) -> tuple[dict[str, tuple[str, generate.PrivateKey]], list[dict[str, Any]]]:
        """The current private keys (as ``current_private_keys``) and the published public keys, in
        one read. Unwrapping and loading a key (an RSA key is checked as it loads) happens once per
        key, not once per refresh."""
        with self.reader() as db:
            rows = db.scalars(select(SigningKey).order_by(SigningKey.alg, SigningKey.created_at)).all()
            signing = {
                r.alg: (r.kid, decrypted.get(r.kid) or self._private(r)) for r in rows if r.state == CURRENT
            }
            return signing, [r.public_jwk for r in rows]

    def _private(self, row: SigningKey) -> generate.PrivateKey:
        return generate.load_private(envelope.unwrap(self.kek, row.kid, row.wrapped_private_key))

    def audit_address_key(self) -> bytes:
        """The key the audit log hashes client addresses with (derived: the KEK never leaves keys/)."""
        return derive(self.kek, AUDIT_ADDRESS)

    def document_key(self) -> bytes:
        """The key identity documents are fingerprinted with (one document proves one account)."""
        return derive(self.kek, IDENTITY_DOCUMENT)

    def check_readable(self) -> None:
        """Unwrap every stored key once: a wrong KEK or a tampered key stops start-up here."""
        with self.session_factory() as db:
            for row in db.scalars(select(SigningKey)).all():
                envelope.unwrap(self.kek, row.kid, row.wrapped_private_key)

    # Changes
    def ensure_keys(self, algs: tuple[str, ...] = ALGORITHMS) -> None:
        for alg in algs:
            self._apply(alg, partial(plan_ensure, alg=alg))
        self.check_readable()

    def rotate(self, alg: str | None = None, *, force: bool = False) -> None:
        """Rotate each algorithm whose next key is old enough (or all, with ``force``); raises
        :class:`RotationRefused` naming those that were not."""
        refused = []
        for each in (alg,) if alg else ALGORITHMS:
            try:
                self._apply(
                    each,
                    partial(plan_rotation, alg=each, now=self.clock(), retention=self.retention, force=force),
                )
            except RotationRefused as exc:
                refused.append(str(exc))
        if refused:
            raise RotationRefused("; ".join(refused))

    def retire(self, kid: str) -> bool:
        with self.session_factory() as db:
            row = db.get(SigningKey, kid)
            if row is None:
                return False
            alg = row.alg
        self._apply(alg, lambda keys: plan_retire(keys, kid, self.clock(), self.retention))
        return True

    def _apply(self, alg: str, decide: Callable[[list[KeyState]], Plan], attempts: int = 5) -> None:
        for attempt in range(attempts):
            try:
                with transaction(self.session_factory) as db:
                    _lock(db, alg)
                    rows = {r.kid: r for r in db.scalars(select(SigningKey).where(SigningKey.alg == alg))}
                    plan = decide([_state(r) for r in rows.values()])
                    if plan.refused:
                        raise RotationRefused(plan.refused)
                    self._carry_out(db, alg, rows, plan)
                return
            except IntegrityError:
                if attempt == attempts - 1:
                    raise  # another process kept winning; the indexes kept the key set valid

    def _carry_out(self, db: Session, alg: str, rows: dict[str, SigningKey], plan: Plan) -> None:
        now = self.clock()
        for kid in plan.remove:
            db.delete(rows[kid])
        if plan.retire:
            rows[plan.retire].state, rows[plan.retire].retired_at = RETIRED, now
        db.flush()  # free the "one current" slot before promoting
        if plan.promote:
            rows[plan.promote].state, rows[plan.promote].activated_at = CURRENT, now
        if plan.create_current:
            db.add(self._new_key(alg, CURRENT, now))
            db.flush()
        if plan.create_next:
            db.add(self._new_key(alg, NEXT, now))
        db.flush()

    def _new_key(self, alg: str, state: str, now: datetime) -> SigningKey:
        private = generate.generate_private_key(alg)
        jwk = generate.public_jwk(private, alg)
        return SigningKey(
            kid=jwk["kid"],
            alg=alg,
            state=state,
            public_jwk=jwk,
            wrapped_private_key=envelope.wrap(self.kek, jwk["kid"], generate.private_bytes(private)),
            created_at=now,
            activated_at=now if state == CURRENT else None,
        )


def _lock(db: Session, alg: str) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(f"signing-key:{alg}".encode())})


def _state(row: SigningKey) -> KeyState:
    return KeyState(row.kid, row.alg, row.state, row.created_at, row.retired_at)


def _info(row: SigningKey) -> KeyInfo:
    return KeyInfo(
        row.kid, row.alg, row.state, row.created_at, row.activated_at, row.retired_at, row.public_jwk
    )


def build_key_service(settings: Any, engine: Engine | None = None) -> KeyService:
    """The key service for these settings; the KEK is generated only outside production."""
    kek = envelope.load_kek(settings.key_encryption_key_file, create=settings.env != "production")
    engine = engine or make_engine(settings.database_url)
    return KeyService(make_sessionmaker(engine), kek, max_token_ttl=settings.max_signed_token_ttl)
