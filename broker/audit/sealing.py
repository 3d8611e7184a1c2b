"""Sealing the releases written since the last seal into the audit chain (see broker/audit/seal.py)."""

from __future__ import annotations

import time
from datetime import datetime

import structlog
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from broker.audit.log import AUDIT_LOCK, as_release, record
from broker.audit.seal import SEALED, Seal, seal, window_until
from broker.store.models import AuditEvent, ReleaseRecord

log = structlog.get_logger(__name__)


def last_seal(db: Session) -> Seal | None:
    details = db.scalar(
        select(AuditEvent.details).where(AuditEvent.action == SEALED).order_by(AuditEvent.seq.desc()).limit(1)
    )
    return Seal.from_details(details) if details else None


# Transactions of this database that had written something when the seal began, still open.
_OPEN_WRITERS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    " AND backend_xid IS NOT NULL AND xact_start <= :began"
)
WRITERS_WAIT = 2.0  # seconds, at most


def _wait_for_open_writers(db: Session) -> bool:
    """On PostgreSQL, wait (briefly) until the transactions that were writing when the seal began have
    ended, so that a release they wrote, with a time inside the window, is committed and seen (SQLite
    has one writer at a time, and the sealer's own transaction waits for it). False when some are
    still open after ``WRITERS_WAIT``: the seal is made anyway, and the log says so."""
    began = db.scalar(text("SELECT clock_timestamp()"))
    deadline = time.monotonic() + WRITERS_WAIT
    while True:
        db.execute(text("SELECT pg_stat_clear_snapshot()"))  # else the view is read once a transaction
        if not db.scalar(_OPEN_WRITERS, {"began": began}):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def seal_releases(db: Session, now: datetime) -> Seal | None:
    """Append a ``releases.sealed`` entry for the releases since the last seal, up to a moment a few
    seconds before ``now``; None when there were none. Runs in the caller's transaction, which must
    hold the chain's key (``CHAIN_KEY``)."""
    if db.get_bind().dialect.name == "postgresql":
        if not _wait_for_open_writers(db):  # before taking the lock, which one of them may be waiting for
            log.warning("sealing releases while a transaction that began before is still open")
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK})  # one sealer at a time
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
