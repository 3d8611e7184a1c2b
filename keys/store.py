"""Where signing keys are kept: a small interface, so that ``keys/`` imports nothing from ``broker``.

The broker's implementation keeps them in its database (``broker.store.signing_keys``); tests may keep
them anywhere. Private halves are stored only wrapped (``keys.envelope``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass
class StoredKey:
    kid: str
    alg: str
    state: str
    public_jwk: dict[str, Any]
    wrapped_private_key: bytes
    created_at: datetime
    activated_at: datetime | None = None
    retired_at: datetime | None = None


class KeyChanges(Protocol):
    """Changes to one algorithm's keys, made together while no other process changes them.
    Each change is visible to the next at once (at most one current and one next key at any time)."""

    def stored(self) -> list[StoredKey]: ...
    def delete(self, kid: str) -> None: ...
    def retire(self, kid: str, now: datetime) -> None: ...
    def promote(self, kid: str, now: datetime) -> None: ...
    def add(self, key: StoredKey) -> None: ...


class KeyStore(Protocol):
    def all(self) -> list[StoredKey]:
        """Every key, by algorithm and age (a read that waits for no writer)."""
        ...

    def get(self, kid: str) -> StoredKey | None: ...

    def changing(self, alg: str) -> AbstractContextManager[KeyChanges]:
        """Hold ``alg``'s keys for changes, kept together when the block ends; raises
        :class:`keys.errors.ConcurrentChange` when another process changed them first."""
        ...
