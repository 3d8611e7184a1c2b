"""Password hashing: argon2id with RFC 9106's second recommended (low-memory) parameters.

Hashing is slow and memory-hungry on purpose, so it runs off the event loop and at most
``concurrency`` hashes run at once: a burst of sign-ins queues rather than exhausting memory.
"""

from __future__ import annotations

import threading

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# RFC 9106 §4, second recommended option: t=3, p=4, m=64 MiB.
PARAMETERS = profiles.RFC_9106_LOW_MEMORY

# A valid hash of a random password, verified when an account does not exist so both paths cost the same.
_DUMMY_PASSWORD = "not-a-real-password-used-to-equalise-timing"


class PasswordService:
    def __init__(self, concurrency: int = 4) -> None:
        self._hasher = PasswordHasher.from_parameters(PARAMETERS)
        self._slots = threading.BoundedSemaphore(concurrency)
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when the password matches. With no stored hash, spends the same time and says no."""
        with self._slots:
            if stored_hash is None:
                if self._dummy_hash is None:
                    self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)
                stored_hash = self._dummy_hash
                password = password + "\x00never"
            try:
                return self._hasher.verify(stored_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)
