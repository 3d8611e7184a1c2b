"""The audit log's hash chain: any edited, removed or reordered entry is found and named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from broker.audit.chain import GENESIS, Entry, entry_hash, verify_chain
from broker.audit.log import record, verify
from broker.store.db import transaction

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def chain(n: int) -> list[Entry]:
    entries, prev = [], GENESIS
    for seq in range(1, n + 1):
        at = T0 + timedelta(seconds=seq)
        h = entry_hash(seq, at, "sign_in.success", "acct", "acct", None, {"n": seq}, prev)
        entries.append(Entry(seq, at, "sign_in.success", "acct", "acct", None, {"n": seq}, prev, h))
        prev = h
    return entries


def test_a_whole_chain_verifies():
    assert verify_chain(chain(5)) is None
    assert verify_chain([]) is None


def test_an_edited_entry_is_named():
    entries = chain(5)
    entries[2] = replace(entries[2], details={"n": 99})
    assert verify_chain(entries).seq == 3


def test_a_removed_entry_is_named():
    entries = chain(5)
    del entries[1]
    broken = verify_chain(entries)
    assert broken.seq == 3 and "missing" in broken.reason


def test_removing_the_last_entries_and_renumbering_is_caught():
    entries = chain(5)
    entries = entries[:2] + [replace(e, seq=e.seq - 1) for e in entries[3:]]
    assert verify_chain(entries).seq == 3


def test_reordered_entries_are_named():
    entries = chain(5)
    a, b = entries[1], entries[2]
    entries[1], entries[2] = replace(b, seq=2), replace(a, seq=3)
    assert verify_chain(entries).seq == 2


def test_record_and_verify_in_the_database(session_factory):
    with transaction(session_factory) as db:
        for i in range(3):
            record(
                db,
                "sign_in.failure",
                now=T0 + timedelta(seconds=i),
                actor="anonymous",
                client_address="192.0.2.1",
            )
    with session_factory() as db:
        assert verify(db) is None


def test_personal_data_is_refused_in_details(session_factory):
    import pytest

    with pytest.raises(ValueError), transaction(session_factory) as db:
        record(db, "x", now=T0, actor="a", password="hunter2")


def test_client_addresses_are_hashed_with_a_key_and_older_entries_still_verify(session_factory):
    """An unkeyed hash of an IPv4 address can be reversed by trying all 2**32; a keyed one cannot.
    Entries written before the key existed keep their hashes, and the chain still verifies."""
    import hashlib

    from broker.audit.log import ADDRESS_KEY, client_hash
    from keys.derive import AUDIT_ADDRESS, derive

    key = derive(b"k" * 32, AUDIT_ADDRESS)
    assert client_hash("192.0.2.1", key) == client_hash("192.0.2.1", key)
    assert client_hash("192.0.2.1", key) != client_hash("192.0.2.1", derive(b"j" * 32, AUDIT_ADDRESS))
    assert client_hash("192.0.2.1", None) is None and client_hash(None, key) is None
    unkeyed = hashlib.sha256(b"broker-client:192.0.2.1").hexdigest()[:32]
    with transaction(session_factory) as db:  # an entry as the broker wrote them before
        old = record(db, "sign_in.failure", now=T0, actor="anonymous")
        old.client_hash = unkeyed
        old.hash = entry_hash(1, old.at, old.action, old.actor, None, unkeyed, {}, GENESIS)
    keyed = session_factory(info={ADDRESS_KEY: key})
    with transaction(lambda: keyed) as db:
        new = record(db, "sign_in.failure", now=T0, actor="anonymous", client_address="192.0.2.1")
        assert new.client_hash == client_hash("192.0.2.1", key) and "192.0.2.1" not in new.client_hash
    with session_factory() as db:
        assert verify(db) is None
