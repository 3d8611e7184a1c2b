from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.base import Base, id_column


class IdentityRecord(Base):
    """One attempt to prove who a person is, and what it reached. Versioned: each attempt is a new row
    (``version`` counts up per account) and a completed row is never changed again, so an old check is
    never silently overwritten. The person's identity is their latest completed record."""

    __tablename__ = "identity_record"
    __table_args__ = (UniqueConstraint("account_id", "version"),)

    id: Mapped[str] = id_column()
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(16))  # "documents" (vouching adds its own)
    # The authorization request waiting for this attempt, if one is.
    interaction_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    # Claimed identity: names (each with validity dates), birth date, addresses (with history).
    names: Mapped[list[Any]] = mapped_column(default=list)
    birth_date: Mapped[date | None] = mapped_column(Date, index=True)  # finds namesakes (vouching)
    addresses: Mapped[list[Any]] = mapped_column(default=list)
    # Each piece of evidence: kind, strength, validity, checks passed, document details, authority.
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    activity: Mapped[int] = mapped_column(Integer, default=0)
    fraud: Mapped[int] = mapped_column(Integer, default=0)
    verification: Mapped[int] = mapped_column(Integer, default=0)
    # Knowledge-based questions asked in this attempt (ids and text, never the answers).
    questions: Mapped[list[Any]] = mapped_column(default=list)
    level: Mapped[str] = mapped_column(String(2), default="P0")
    profile: Mapped[str | None] = mapped_column(String(8))
    recheck_by: Mapped[date | None] = mapped_column(Date)
    # A record found false, or replaced because the vouches behind it changed, no longer counts.
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(200))


class ProvenDocument(Base):
    """A document that proved an identity, known only by its fingerprint: a keyed hash (HMAC-SHA256,
    key derived in keys/) of its kind and number, never the number itself. The fingerprint is the
    primary key, so one document proves one account: a second account's proof with it is refused,
    and vouchers proven by one document are one person, not two."""

    __tablename__ = "proven_document"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    # The first record this document proved.
    identity_record_id: Mapped[str] = mapped_column(ForeignKey("identity_record.id", ondelete="CASCADE"))
    proven_at: Mapped[datetime]


class SimulatedRegistryEntry(Base):
    """The simulated authorities' records (development and testing only): documents by number and
    people by family name and birth date. A real deployment uses real authorities' adapters instead."""

    __tablename__ = "simulated_registry_entry"
    __table_args__ = (UniqueConstraint("kind", "reference"),)

    id: Mapped[str] = id_column()
    kind: Mapped[str] = mapped_column(String(24))
    reference: Mapped[str] = mapped_column(String(160))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
