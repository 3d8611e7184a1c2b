"""Writing and checking the audit log."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from broker.audit.chain import GENESIS, Broken, Entry, entry_hash, verify_chain
from broker.store.models import AuditEvent

# Never recorded, whatever a caller passes in details.
FORBIDDEN_DETAILS = {"password", "code", "token", "secret", "email", "phone_number"}
AUDIT_LOCK = 0x61756469  # "audi"


ADDRESS_KEY = "audit_address_key"  # where Session.info holds the key (set in app.py's wiring)
KEYED = "k1:"  # marks keyed hashes; older entries keep their unkeyed ones (the chain covers them)


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
        hash=entry_hash(seq, now, action, actor, subject, address, details, prev),
    )
    db.add(event)
    db.flush()
    return event


def verify(db: Session) -> Broken | None:
    rows = db.scalars(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(1000)
    return verify_chain(
        Entry(r.seq, r.at, r.action, r.actor, r.subject, r.client_hash, r.details, r.prev_hash, r.hash)
        for r in rows
    )


def events_for(db: Session, subject: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.subject == subject).order_by(AuditEvent.seq)))
