"""argon2id hashing: verification, equal-cost refusals, and rehashing when parameters change."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher

from broker.accounts.passwords import PARAMETERS, PasswordService, TooBusy
from broker.accounts.service import AccountService
from broker.store.db import transaction
from broker.store.models import Account


def test_parameters_are_rfc_9106_low_memory():
    assert (PARAMETERS.time_cost, PARAMETERS.memory_cost, PARAMETERS.parallelism) == (3, 65536, 4)
    assert PasswordService().hash("velvet otter").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_verify_and_refuse():
    service = PasswordService()
    stored = service.hash("velvet otter cabbage")
    assert service.verify(stored, "velvet otter cabbage")
    assert not service.verify(stored, "velvet otter cabbagE")
    assert not service.verify(None, "anything")  # unknown account: same work, same answer
    assert not service.verify("not a hash", "anything")


def test_sign_in_rehashes_a_hash_made_with_old_parameters(session_factory):
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("velvet otter cabbage")
    with transaction(session_factory) as db:
        db.add(Account(id="old", email="old@example.org", password_hash=old, created_at=datetime.now(UTC)))
    with transaction(session_factory) as db:
        accounts = AccountService(db, PasswordService())
        account = accounts.by_email("Old@Example.org")
        db.commit()
        assert accounts.password_matches(account, "velvet otter cabbage")
    with session_factory() as db:
        rehashed = db.get(Account, "old").password_hash
    assert rehashed != old and rehashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_password_is_never_checked_inside_a_transaction(session_factory):
    """On SQLite a transaction holds the write lock: a hash inside one would stall every writer."""
    with transaction(session_factory) as db:
        accounts = AccountService(db, PasswordService())
        account = accounts.by_email("nobody@example.org")
        with pytest.raises(RuntimeError, match="commit before"):
            accounts.password_matches(account, "anything")


def test_no_account_costs_one_hash_like_a_wrong_password(session_factory):
    counted: list[str] = []

    class Counting(PasswordService):
        def verify(self, stored_hash, password):
            counted.append(password)
            return super().verify(stored_hash, password)

    with session_factory() as db:
        accounts = AccountService(db, Counting())
        assert not accounts.password_matches(None, "anything")
    assert len(counted) == 1


def test_turns_to_hash_are_bounded_and_a_full_queue_is_refused_at_once():
    service = PasswordService(concurrency=2, waiting=1)

    service = PasswordService(concurrency=2, waiting=1)
    inside, most = 0, 0

    async def sign_in() -> str:
        nonlocal inside, most
        try:
            async with service.turn():
                inside += 1
                most = max(most, inside)
                await asyncio.sleep(0.05)
                inside -= 1
                return "hashed"
        except TooBusy:
            return "refused"

    async def burst() -> list[str]:
        return await asyncio.gather(*(sign_in() for _ in range(5)))

    # A loop of its own in a thread of its own: a browser test may hold the main thread's loop.
    with ThreadPoolExecutor(1) as pool:
        results = pool.submit(asyncio.run, burst()).result()
    assert most == 2  # two at once, never more
    assert sorted(results) == ["hashed"] * 3 + ["refused"] * 2  # two in turn, one waiting, the rest refused
    with pytest.raises(TooBusy) as refused:
        raise TooBusy()
    assert refused.value.status == 429 and "minute" in refused.value.description
