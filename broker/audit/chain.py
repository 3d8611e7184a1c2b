"""The audit log's hash chain (pure): each entry's hash covers its content and the previous hash,
so editing, removing or reordering any entry breaks the chain at that entry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


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


def entry_hash(
    seq: int,
    at: datetime,
    action: str,
    actor: str,
    subject: str | None,
    client_hash: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    canonical = json.dumps(
        [seq, at.isoformat(), action, actor, subject, client_hash, details, prev_hash],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Broken:
    seq: int
    reason: str


def verify_chain(entries: Iterable[Entry]) -> Broken | None:
    """The first entry where the chain breaks, or None when it is whole."""
    previous_hash, previous_seq = GENESIS, 0
    for e in entries:
        if e.seq != previous_seq + 1:
            return Broken(e.seq, f"entries missing before {e.seq} (expected {previous_seq + 1})")
        if e.prev_hash != previous_hash:
            return Broken(e.seq, "does not follow the entry before it (removed or reordered)")
        if (
            entry_hash(e.seq, e.at, e.action, e.actor, e.subject, e.client_hash, e.details, e.prev_hash)
            != e.hash
        ):
            return Broken(e.seq, "content was changed")
        previous_hash, previous_seq = e.hash, e.seq
    return None
