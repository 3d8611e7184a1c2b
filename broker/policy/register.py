"""The public register of data sharing agreements in force: for each service, the version that governs
it today when that version is in force (approved, inside its dates, neither suspended nor ended). Drafts,
versions awaiting approval, suspended, ended and expired versions are never listed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.policy.mou import Terms, effective_status
from broker.policy.service import governing, terms_of
from broker.store.models import Client, Mou, MouVersion


@dataclass(frozen=True)
class InForce:
    """One agreement on the register: the service, and the version in force with its terms."""

    client: Client
    mou: Mou
    version: MouVersion
    terms: Terms


def agreements_in_force(db: Session, today: date) -> list[InForce]:
    """Every agreement in force on ``today``, by service name."""
    out = []
    for mou in db.scalars(select(Mou)):
        client = db.get(Client, mou.client_id)
        version = governing(db, mou.client_id, today=today)
        if client is None or version is None or version.mou_id != mou.id:
            continue
        terms = terms_of(version)
        if effective_status(version.status, terms, today) == "active":
            out.append(InForce(client, mou, version, terms))
    return sorted(out, key=lambda entry: (entry.client.name.casefold(), entry.mou.reference))
