"""The audit log's hash chain: any edited, removed or reordered entry is found and named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from broker.audit.chain import GENESIS, Broken, Entry, Head, entry_hash, verify_chain, walk_chain
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


# The keyed chain: an HMAC with a key derived from the KEK.
KEY = b"c" * 32


def keyed_chain(n: int, key: bytes = KEY, start: int = 1, prev: str = GENESIS) -> list[Entry]:
    entries = []
    for seq in range(start, start + n):
        at = T0 + timedelta(seconds=seq)
        h = entry_hash(seq, at, "sign_in.success", "acct", "acct", None, {"n": seq}, prev, key=key)
        entries.append(Entry(seq, at, "sign_in.success", "acct", "acct", None, {"n": seq}, prev, h))
        prev = h
    return entries


def recomputed(entries: list[Entry], key: bytes | None) -> list[Entry]:
    """The chain as someone would write it again from the first entry on, with ``key`` (None: SHA-256)."""
    out, prev = [], GENESIS
    for e in entries:
        h = entry_hash(e.seq, e.at, e.action, e.actor, e.subject, e.client_hash, e.details, prev, key=key)
        out.append(replace(e, prev_hash=prev, hash=h))
        prev = h
    return out


def test_keyed_hashes_carry_their_version_and_fit_the_column():
    h = keyed_chain(1)[0].hash
    assert h.startswith("k1:") and len(h) <= 64
    assert entry_hash(1, T0, "a", "b", None, None, {}, GENESIS, key=KEY) != entry_hash(
        1, T0, "a", "b", None, None, {}, GENESIS, key=b"d" * 32
    )


@pytest.mark.parametrize(
    ("name", "entries", "key", "broken_at", "reason"),
    [
        ("a keyed chain", keyed_chain(4), KEY, None, None),
        (
            "unkeyed entries, then keyed ones (written before and after keying)",
            chain(2) + keyed_chain(2, start=3, prev=chain(2)[-1].hash),
            KEY,
            None,
            None,
        ),
        ("checked with another key", keyed_chain(3), b"x" * 32, 1, "changed"),
        ("checked with no key", keyed_chain(3), None, 1, "no key"),
        (
            "an entry edited and every hash recomputed with SHA-256",
            recomputed(
                [*keyed_chain(3)[:1], replace(keyed_chain(3)[1], actor="someone-else"), keyed_chain(3)[2]],
                None,
            ),
            KEY,
            None,
            None,
        ),  # an all-unkeyed chain from the start looks like an old log: see the next rows
        (
            "an edited entry rewritten unkeyed after keyed ones",
            keyed_chain(2) + recomputed(keyed_chain(4), None)[2:],
            KEY,
            3,
            "follow",
        ),
        (
            "an entry edited, its hash recomputed with SHA-256 after a keyed one",
            keyed_chain(1)
            + [
                replace(
                    keyed_chain(2)[1],
                    actor="x",
                    hash=entry_hash(
                        2,
                        keyed_chain(2)[1].at,
                        "sign_in.success",
                        "x",
                        "acct",
                        None,
                        {"n": 2},
                        keyed_chain(1)[0].hash,
                    ),
                )
            ],
            KEY,
            2,
            "unkeyed entry after keyed",
        ),
        (
            "an entry edited, keyed hash recomputed with the wrong key",
            recomputed(keyed_chain(3), b"w" * 32),
            KEY,
            1,
            "changed",
        ),
    ],
)
def test_the_keyed_chain(name, entries, key, broken_at, reason):
    broken = verify_chain(entries, key)
    if broken_at is None:
        assert broken is None, name
    else:
        assert broken is not None and broken.seq == broken_at and reason in broken.reason, (name, broken)


def test_a_rewrite_of_the_whole_log_without_the_key_is_caught_by_a_checkpoint():
    """Rewriting every entry with SHA-256 from the first leaves a chain that looks older than keying;
    the signed checkpoints hold the keyed hashes, so it differs at the first checkpointed entry."""
    honest = keyed_chain(4)
    forged = recomputed([honest[0], replace(honest[1], actor="someone-else"), *honest[2:]], None)
    anchors = {3: honest[2].hash}
    assert verify_chain(honest, KEY, anchors) is None
    broken = verify_chain(forged, KEY, anchors)
    assert broken.seq == 3 and "checkpoint" in broken.reason


@pytest.mark.parametrize(
    ("anchors", "entries", "broken_at", "reason"),
    [
        ({4: keyed_chain(5)[3].hash}, keyed_chain(5), None, None),
        ({5: keyed_chain(5)[4].hash}, keyed_chain(3), 4, "cut short"),  # the newest entries deleted
        ({2: keyed_chain(5)[1].hash}, keyed_chain(0), 1, "cut short"),  # all of them
        ({2: "k1:another"}, keyed_chain(3), 2, "checkpoint"),
    ],
)
def test_checkpoints_anchor_the_chain(anchors, entries, broken_at, reason):
    broken = verify_chain(entries, KEY, anchors)
    if broken_at is None:
        assert broken is None
    else:
        assert broken.seq == broken_at and reason in broken.reason, broken


def test_a_walk_can_start_from_a_checked_head():
    entries = keyed_chain(5)
    head = walk_chain(entries[3:], KEY, start=Head(3, entries[2].hash))
    assert head == Head(5, entries[4].hash)
    assert isinstance(walk_chain(entries[3:], KEY, start=Head(3, "k1:other")), Broken)
    assert isinstance(walk_chain(recomputed(entries, None)[3:], KEY, start=Head(3, entries[2].hash)), Broken)
