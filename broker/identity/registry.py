"""The simulated authorities' registry, kept in the database (development and testing only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.store.models import SimulatedRegistryEntry
from vouching.authorities import Authorities, Lookup, person_reference, simulated
from vouching.person import ClaimedPerson

KINDS = ("uk_passport", "uk_driving_licence", "person")


def lookup_in(db: Session) -> Lookup:
    def lookup(kind: str, reference: str) -> dict[str, Any] | None:
        row = db.scalar(select(SimulatedRegistryEntry).filter_by(kind=kind, reference=reference.upper()))
        return dict(row.data) if row else None

    return lookup


def simulated_authorities(db: Session) -> Authorities:
    return simulated(lookup_in(db))


def put(db: Session, kind: str, reference: str, data: dict[str, Any], now: datetime) -> None:
    """Add or replace one entry."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    reference = reference.upper()
    row = db.scalar(select(SimulatedRegistryEntry).filter_by(kind=kind, reference=reference))
    if row is None:
        db.add(SimulatedRegistryEntry(kind=kind, reference=reference, data=data, created_at=now))
    else:
        row.data = data


def put_person(db: Session, person: ClaimedPerson, data: dict[str, Any], now: datetime) -> None:
    put(db, "person", person_reference(person.family_name, person.birth_date), data, now)
