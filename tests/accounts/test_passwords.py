"""argon2id hashing: verification, equal-cost refusals, and rehashing when parameters change."""

from __future__ import annotations

from datetime import UTC, datetime

from argon2 import PasswordHasher

from broker.accounts.passwords import PARAMETERS, PasswordService
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
        assert AccountService(db, PasswordService()).authenticate("Old@Example.org", "velvet otter cabbage")
    with session_factory() as db:
        rehashed = db.get(Account, "old").password_hash
    assert rehashed != old and rehashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
