"""Sealing the document evidence stored before numbers were masked (``broker identities
seal-documents``). For each record still holding a number in clear: every document's fingerprint is
kept with it, a document that proved an identity is registered in ``proven_document`` (so it proves
that account only, as if it had been checked today), and only then is the number masked, all in the
record's transaction. Nothing needed is lost, and running it again changes nothing.

Records are taken in the order they were completed, so when one document proved two accounts before
fingerprints were kept, the first keeps it, as it would have live; the other is reported and audited
as ``identity.document_reused`` for someone to look into (its record is not changed: it was
complete). Attempts still under way are sealed last; they register their documents when they
complete."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from broker.audit.log import record as audit
from broker.identity.evidence import clear_number, sealed
from broker.identity.service import counted_documents, holder, lock_documents
from broker.store.db import transaction
from broker.store.models import IdentityRecord, ProvenDocument
from vouching.levels import NO_IDENTITY

BATCH = 200  # records per transaction


@dataclass
class Sealing:
    """What a run did: records sealed, documents registered, and documents found on two accounts
    (``{"account", "proven_account", "kind"}``: account ids, never numbers)."""

    sealed: int = 0
    registered: int = 0
    reused: list[dict[str, str]] = field(default_factory=list)


def holds_numbers(record: IdentityRecord) -> bool:
    return any(clear_number(e) for e in record.evidence)


def proved_an_identity(record: IdentityRecord) -> bool:
    """A record whose documents were kept when it completed (a revoked one no longer proves anyone:
    its document stays free for the person it belongs to)."""
    return record.completed_at is not None and record.revoked_at is None and record.level != NO_IDENTITY


def _completed_after(db: Session, last: IdentityRecord | None, size: int) -> Sequence[IdentityRecord]:
    query = select(IdentityRecord).where(
        IdentityRecord.route == "documents", IdentityRecord.completed_at.is_not(None)
    )
    if last is not None:
        at = last.completed_at
        query = query.where(
            or_(
                IdentityRecord.completed_at > at,
                and_(IdentityRecord.completed_at == at, IdentityRecord.id > last.id),
            )
        )
    order = (IdentityRecord.completed_at, IdentityRecord.id)
    return db.scalars(query.order_by(*order).limit(size).with_for_update()).all()


def _under_way_after(db: Session, last: IdentityRecord | None, size: int) -> Sequence[IdentityRecord]:
    query = select(IdentityRecord).where(
        IdentityRecord.route == "documents", IdentityRecord.completed_at.is_(None)
    )
    if last is not None:
        query = query.where(IdentityRecord.id > last.id)
    return db.scalars(query.order_by(IdentityRecord.id).limit(size).with_for_update()).all()


class DocumentSealer:
    def __init__(self, factory: sessionmaker[Session], key: bytes, clock: Callable[[], datetime]) -> None:
        if not key:
            raise ValueError("sealing documents needs the document key")
        self.factory = factory
        self.key = key
        self.clock = clock

    def run(self, batch: int = BATCH) -> Sealing:
        done = Sealing()
        for page in (_completed_after, _under_way_after):
            last: IdentityRecord | None = None
            while True:
                with transaction(self.factory) as db:  # rows locked (PostgreSQL) while they are sealed
                    rows = page(db, last, batch)
                    for row in rows:
                        self._seal(db, row, done)
                if len(rows) < batch:
                    break
                last = rows[-1]
        if done.sealed:
            with transaction(self.factory) as db:
                audit(
                    db,
                    "identity.documents_sealed",
                    now=self.clock(),
                    actor="operator",
                    records=done.sealed,
                    registered=done.registered,
                    reused=len(done.reused),
                )
        return done

    def _seal(self, db: Session, record: IdentityRecord, done: Sealing) -> None:
        if not holds_numbers(record):
            return
        if proved_an_identity(record):
            self._register(db, record, done)
        record.evidence = [sealed(e, self.key) for e in record.evidence]
        done.sealed += 1

    def _register(self, db: Session, record: IdentityRecord, done: Sealing) -> None:
        assert record.completed_at is not None
        documents = dict.fromkeys((kind, p) for _i, kind, p in counted_documents(record, self.key))
        lock_documents(db, [p for _k, p in documents])
        for kind, print_ in documents:
            held_by = holder(db, print_)
            if held_by is None:
                db.add(
                    ProvenDocument(
                        fingerprint=print_,
                        kind=kind,
                        account_id=record.account_id,
                        identity_record_id=record.id,
                        proven_at=record.completed_at,
                    )
                )
                db.flush()
                done.registered += 1
            elif held_by != record.account_id:
                audit(
                    db,
                    "identity.document_reused",
                    now=self.clock(),
                    actor="operator",
                    subject=record.account_id,
                    kind=kind,
                    proven_account=held_by,
                )
                done.reused.append({"account": record.account_id, "proven_account": held_by, "kind": kind})
