"""The audit log's hash chain (pure): each entry's hash covers its content and the previous hash,
so editing, removing or reordering any entry breaks the chain at that entry.

The hash is keyed: an HMAC-SHA256 with a key derived from the key-encryption key (keys/derive.py), so
someone who can write to the database but does not hold the KEK cannot rewrite an entry and compute
the chain again. Keyed hashes carry the prefix ``k1:``; entries written before the chain was keyed
keep their plain SHA-256 hashes and still verify, but an unkeyed entry after a keyed one is refused
(it can only be a rewrite by someone without the key). Truncation, which a chain alone cannot see,
is found by the signed checkpoints (``anchors`` below, broker/audit/checkpoints.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64
KEYED = "k1:"  # "k1:" + the HMAC in base64url (46 characters: the column holds 64)


@dataclass(frozen=True)
class Entry:
    seq: int
    at: datetime
    action: str
    actor: str
    subject: str | None
    client_hash: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


def canonical(
    seq: int,
    at: datetime,
    action: str,
    actor: str,
    subject: str | None,
    client_hash: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> bytes:
    return json.dumps(
        [seq, at.isoformat(), action, actor, subject, client_hash, details, prev_hash],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    ).encode()


def entry_hash(
    seq: int,
    at: datetime,
    action: str,
    actor: str,
    subject: str | None,
    client_hash: str | None,
    details: dict[str, Any],
    prev_hash: str,
    key: bytes | None = None,
) -> str:
    """The entry's keyed hash (``k1:``...) with a key; the plain SHA-256 of entries written before
    the chain was keyed without one."""
    content = canonical(seq, at, action, actor, subject, client_hash, details, prev_hash)
    if key is None:
        return hashlib.sha256(content).hexdigest()
    tag = hmac.new(key, content, hashlib.sha256).digest()
    return KEYED + base64.urlsafe_b64encode(tag).rstrip(b"=").decode()


def is_keyed(hash_: str) -> bool:
    return hash_.startswith(KEYED)


@dataclass(frozen=True)
class Broken:
    seq: int
    reason: str


@dataclass(frozen=True)
class Head:
    """The last entry of a whole chain (seq 0 and GENESIS for an empty one)."""

    seq: int
    hash: str


def _hash_is_right(e: Entry, key: bytes | None) -> bool:
    fields = (e.seq, e.at, e.action, e.actor, e.subject, e.client_hash, e.details, e.prev_hash)
    expected = entry_hash(*fields, key=key if is_keyed(e.hash) else None)
    return hmac.compare_digest(expected, e.hash)


def walk_chain(
    entries: Iterable[Entry],
    key: bytes | None,
    anchors: Mapping[int, str] | None = None,
    start: Head | None = None,
) -> Broken | Head:
    """The first entry where the chain breaks, or the head of a whole chain.

    ``anchors`` (seq → hash, from signed checkpoints) must each match the entry at that seq, and the
    chain must reach the highest of them: a log shorter than a checkpoint was cut short. ``start``
    is an entry already known good (the entries given are those after it)."""
    anchors = anchors or {}
    start = start or Head(0, GENESIS)
    previous_hash, previous_seq = start.hash, start.seq
    keyed_since = start.seq if is_keyed(start.hash) else None
    for e in entries:
        if e.seq != previous_seq + 1:
            return Broken(e.seq, f"entries missing before {e.seq} (expected {previous_seq + 1})")
        if e.prev_hash != previous_hash:
            return Broken(e.seq, "does not follow the entry before it (removed or reordered)")
        if is_keyed(e.hash):
            if key is None:
                return Broken(e.seq, "keyed entry, and no key to check it with")
            keyed_since = keyed_since or e.seq
        elif keyed_since is not None:
            return Broken(
                e.seq, f"unkeyed entry after keyed ones (from {keyed_since}): rewritten without the key"
            )
        if not _hash_is_right(e, key):
            return Broken(e.seq, "content was changed")
        if e.seq in anchors and anchors[e.seq] != e.hash:
            return Broken(e.seq, "differs from a signed checkpoint (the log was rewritten)")
        previous_hash, previous_seq = e.hash, e.seq
    beyond = [seq for seq in anchors if seq > previous_seq]
    if beyond:
        return Broken(
            previous_seq + 1,
            f"the log ends at entry {previous_seq}, but a signed checkpoint saw {max(beyond)} entries (cut short)",
        )
    return Head(previous_seq, previous_hash)


def verify_chain(
    entries: Iterable[Entry], key: bytes | None = None, anchors: Mapping[int, str] | None = None
) -> Broken | None:
    """The first entry where the chain breaks, or None when it is whole."""
    found = walk_chain(entries, key, anchors)
    return found if isinstance(found, Broken) else None
