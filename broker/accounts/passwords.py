"""Password hashing: argon2id with RFC 9106's second recommended (low-memory) parameters.

Hashing is slow and memory-hungry on purpose, so it runs off the event loop and at most
``concurrency`` hashes run at once: a burst of sign-ins queues rather than exhausting memory. The
queue is on the event loop (:meth:`PasswordService.turn`, taken before a request gets a worker
thread), so waiting sign-ins hold no thread and every other endpoint keeps answering; past
``waiting`` in the queue a request is refused at once with "try again in a minute".
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from broker.accounts.text import N_
from broker.errors import PageError

# RFC 9106 §4, second recommended option: t=3, p=4, m=64 MiB.
PARAMETERS = profiles.RFC_9106_LOW_MEMORY

# A valid hash of a random password, verified when an account does not exist so both paths cost the same.
_DUMMY_PASSWORD = "not-a-real-password-used-to-equalise-timing"


class TooBusy(PageError):
    status = 429
    code = "too_busy"
    title = N_("There are too many attempts right now")

    def __init__(self) -> None:
        super().__init__(N_("Try again in a minute."))


class PasswordService:
    def __init__(self, concurrency: int = 4, waiting: int = 64, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher.from_parameters(PARAMETERS)
        self._slots = threading.BoundedSemaphore(concurrency)  # also bounds callers without a turn
        self._turns = asyncio.Semaphore(concurrency)
        self._waiting = 0
        self.max_waiting = waiting
        self._dummy_hash: str | None = None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """A turn to hash, awaited on the event loop (see the module's docstring); raises
        :class:`TooBusy` when ``waiting`` requests already wait."""
        if self._turns.locked() and self._waiting >= self.max_waiting:
            raise TooBusy()
        self._waiting += 1
        try:
            await self._turns.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._turns.release()

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
