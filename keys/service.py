"""Signing keys: created, rotated, retired and pruned by the life-cycle plans, kept in a ``KeyStore``.

Safe when several broker processes share the store: each change holds the algorithm's keys
(``KeyStore.changing``) while it reads them, decides and writes, and a change that lost a race with
another process is tried again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from keys import envelope, generate
from keys.derive import ANTI_FORGERY, AUDIT_ADDRESS, AUDIT_CHAIN, IDENTITY_DOCUMENT, derive
from keys.errors import ConcurrentChange, RotationRefused
from keys.lifecycle import CURRENT, NEXT, KeyState, Plan, plan_ensure, plan_retire, plan_rotation
from keys.store import KeyChanges, KeyStore, StoredKey

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
        store: KeyStore,
        kek: bytes,
        *,
        max_token_ttl: int,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.store = store
        self.kek = kek
        self.retention = timedelta(seconds=max_token_ttl)
        self.clock = clock
        self._anti_forgery: bytes | None = None

    # Queries
    def list_keys(self) -> list[KeyInfo]:
        return [_info(k) for k in self.store.all()]

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
        rows = self.store.all()
        signing = {r.alg: (r.kid, decrypted.get(r.kid) or self._private(r)) for r in rows if r.state == CURRENT}
        return signing, [r.public_jwk for r in rows]

    def _private(self, row: StoredKey) -> generate.PrivateKey:
        return generate.load_private(envelope.unwrap(self.kek, row.kid, row.wrapped_private_key))

    def audit_address_key(self) -> bytes:
        """The key the audit log hashes client addresses with (derived: the KEK never leaves keys/)."""
        return derive(self.kek, AUDIT_ADDRESS)

    def audit_chain_key(self) -> bytes:
        """The key the audit log's hash chain is computed with (HMAC-SHA256), so that nobody who can
        write to the database but does not hold the KEK can rewrite an entry and recompute the chain."""
        return derive(self.kek, AUDIT_CHAIN)

    def document_key(self) -> bytes:
        """The key identity documents are fingerprinted with (one document proves one account)."""
        return derive(self.kek, IDENTITY_DOCUMENT)

    def anti_forgery_key(self) -> bytes:
        """The key page forms' anti-forgery tokens are computed with, so that no cookie alone gives
        the token."""
        if self._anti_forgery is None:  # asked for on every page: derived once
            self._anti_forgery = derive(self.kek, ANTI_FORGERY)
        return self._anti_forgery

    def check_readable(self) -> None:
        """Unwrap every stored key once: a wrong KEK or a tampered key stops start-up here."""
        for row in self.store.all():
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
        row = self.store.get(kid)
        if row is None:
            return False
        self._apply(row.alg, lambda keys: plan_retire(keys, kid, self.clock(), self.retention))
        return True

    def _apply(self, alg: str, decide: Callable[[list[KeyState]], Plan], attempts: int = 5) -> None:
        for attempt in range(attempts):
            try:
                with self.store.changing(alg) as changes:
                    plan = decide([_state(k) for k in changes.stored()])
                    if plan.refused:
                        raise RotationRefused(plan.refused)
                    self._carry_out(changes, alg, plan)
                return
            except ConcurrentChange:
                if attempt == attempts - 1:
                    raise  # another process kept winning; the store kept the key set valid

    def _carry_out(self, changes: KeyChanges, alg: str, plan: Plan) -> None:
        now = self.clock()
        for kid in plan.remove:
            changes.delete(kid)
        if plan.retire:  # frees the "one current" slot before promoting
            changes.retire(plan.retire, now)
        if plan.promote:
            changes.promote(plan.promote, now)
        if plan.create_current:
            changes.add(self._new_key(alg, CURRENT, now))
        if plan.create_next:
            changes.add(self._new_key(alg, NEXT, now))

    def _new_key(self, alg: str, state: str, now: datetime) -> StoredKey:
        private = generate.generate_private_key(alg)
        jwk = generate.public_jwk(private, alg)
        return StoredKey(
            kid=jwk["kid"],
            alg=alg,
            state=state,
            public_jwk=jwk,
            wrapped_private_key=envelope.wrap(self.kek, jwk["kid"], generate.private_bytes(private)),
            created_at=now,
            activated_at=now if state == CURRENT else None,
        )


def _state(row: StoredKey) -> KeyState:
    return KeyState(row.kid, row.alg, row.state, row.created_at, row.retired_at)


def _info(row: StoredKey) -> KeyInfo:
    return KeyInfo(
        row.kid, row.alg, row.state, row.created_at, row.activated_at, row.retired_at, row.public_jwk
    )
