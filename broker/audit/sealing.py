"""Sealing the releases written since the last seal into the audit chain (see broker/audit/seal.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from broker.audit.log import AUDIT_LOCK, as_release, record
from broker.audit.seal import SEALED, Seal, seal, window_until
from broker.store.models import AuditEvent, ReleaseRecord


def last_seal(db: Session) -> Seal | None:
    details = db.scalar(
        select(AuditEvent.details).where(AuditEvent.action == SEALED).order_by(AuditEvent.seq.desc()).limit(1)
    )
    return Seal.from_details(details) if details else None


def seal_releases(db: Session, now: datetime) -> Seal | None:
    """Append a ``releases.sealed`` entry for the releases since the last seal, up to a moment a few
    seconds before ``now``; None when there were none. Runs in the caller's transaction, which must
    hold the chain's key (``CHAIN_KEY``)."""
    if db.get_bind().dialect.name == "postgresql":  # one sealer at a time: windows must not overlap
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK})
    previous = last_seal(db)
    after, until = (previous.until if previous else None), window_until(now)
    if after is not None and until <= after:
        return None  # a clock behind the last seal's: nothing new to seal yet
    query = select(ReleaseRecord).where(ReleaseRecord.released_at <= until)
    if after is not None:
        query = query.where(ReleaseRecord.released_at > after)
    rows = db.scalars(query.order_by(ReleaseRecord.released_at, ReleaseRecord.id)).yield_per(1000)
    made = seal(after, until, (as_release(r) for r in rows))
    if made.count == 0:
        return None  # the next seal's window starts where the last one ended, so nothing is skipped
    record(db, SEALED, now=now, actor="broker", **made.details())
    return made
