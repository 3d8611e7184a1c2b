"""Writing and checking the audit log."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

# KEYED marks keyed hashes, of addresses as of entries; older entries keep their unkeyed ones
from broker.audit.chain import GENESIS, KEYED, Broken, Entry, Head, entry_hash, is_keyed, walk_chain
from broker.audit.seal import SEALED, Release, Seal, SealsChecked, check_seals
from broker.store.models import AuditEvent, ReleaseRecord

# Never recorded, whatever a caller passes in details.
FORBIDDEN_DETAILS = {"password", "code", "token", "secret", "email", "phone_number"}
AUDIT_LOCK = 0x61756469  # "audi"


ADDRESS_KEY = "audit_address_key"  # where Session.info holds the key (set in app.py's wiring)
CHAIN_KEY = "audit_chain_key"  # where Session.info holds the chain's HMAC key (set beside it)


class UnkeyedWriter(RuntimeError):
    """An entry would follow keyed ones without the key: it would break the chain, so none is written."""


def client_hash(address: str | None, key: bytes | None) -> str | None:
    """A keyed hash (HMAC-SHA256) of the client address: one address always gives the same value, so
    events from it can be linked, but without the key (derived in keys/) nobody can try every IPv4
    address to find which it was. With no key, no address is recorded at all."""
    if not address or not key:
        return None
    return KEYED + hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:40]


def record(
    db: Session,
    action: str,
    *,
    now: datetime,
    actor: str,
    subject: str | None = None,
    client_address: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one event, chained to the last. Runs in the caller's transaction."""
    now = now.astimezone(UTC)  # the hash covers the time as stored
    leaked = FORBIDDEN_DETAILS & set(details)
    if leaked:
        raise ValueError(f"audit details must not hold {sorted(leaked)}")
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK})
    last = db.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    key = db.info.get(CHAIN_KEY)
    if key is None and is_keyed(prev):
        raise UnkeyedWriter("the audit chain is keyed: write to it through a session holding its key")
    address = client_hash(client_address, db.info.get(ADDRESS_KEY))
    event = AuditEvent(
        seq=seq,
        at=now,
        action=action,
        actor=actor,
        subject=subject,
        client_hash=address,
        details=details,
        prev_hash=prev,
        hash=entry_hash(seq, now, action, actor, subject, address, details, prev, key=key),
    )
    db.add(event)
    db.flush()
    return event


def entries(db: Session, after: int = 0) -> Iterator[Entry]:
    rows = db.scalars(select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq)).yield_per(
        1000
    )
    for r in rows:
        yield Entry(r.seq, r.at, r.action, r.actor, r.subject, r.client_hash, r.details, r.prev_hash, r.hash)


def releases(db: Session) -> Iterator[Release]:
    """The release ledger in the order seals cover it."""
    rows = db.scalars(select(ReleaseRecord).order_by(ReleaseRecord.released_at, ReleaseRecord.id)).yield_per(
        1000
    )
    return (as_release(r) for r in rows)


def as_release(r: ReleaseRecord) -> Release:
    return Release(
        r.id,
        r.account_id,
        r.client_id,
        r.mou_version_id,
        r.consent_id,
        r.grant_id,
        r.endpoint,
        list(r.claims),
        r.released_at,
    )


@dataclass(frozen=True)
class Verified:
    head: Head
    releases: SealsChecked


def check(db: Session, key: bytes | None, anchors: Mapping[int, str] | None = None) -> Broken | Verified:
    """The whole log: the keyed chain (against the signed checkpoints' ``anchors``, seq → hash), then
    every release seal in it against the release ledger."""
    seals: list[tuple[int, Seal]] = []

    def collecting(stream: Iterable[Entry]) -> Iterator[Entry]:
        for e in stream:
            if e.action == SEALED:
                seals.append((e.seq, Seal.from_details(e.details)))
            yield e

    head = walk_chain(collecting(entries(db)), key, anchors)
    if isinstance(head, Broken):
        return head
    sealed = check_seals(seals, releases(db))
    if isinstance(sealed, Broken):
        return sealed
    return Verified(head, sealed)


def verify(db: Session, key: bytes | None = None, anchors: Mapping[int, str] | None = None) -> Broken | None:
    """The first broken entry, or None when the whole log holds."""
    found = check(db, key, anchors)
    return found if isinstance(found, Broken) else None


def events_for(db: Session, subject: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.subject == subject).order_by(AuditEvent.seq)))
