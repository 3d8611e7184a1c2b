"""A person's sharing history, for a subject access request: every release the ledger holds about
them (``ReleaseRecord``), each naming the service and the agreement version it was made under."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.store.models import Client, Mou, MouVersion, ReleaseRecord


@dataclass(frozen=True)
class Release:
    """One release, as the person reads it."""

    released_at: datetime
    client_id: str
    service: str
    reference: str | None  # the agreement's reference and version number (None: the version is gone)
    version: int | None
    endpoint: str
    claims: tuple[str, ...]


def releases_to(db: Session, account_id: str) -> list[Release]:
    """Every release about ``account_id`` (and nobody else), newest first."""
    rows = db.scalars(
        select(ReleaseRecord)
        .where(ReleaseRecord.account_id == account_id)
        .order_by(ReleaseRecord.released_at.desc(), ReleaseRecord.id)
    )
    names: dict[str, str] = {}
    versions: dict[str, tuple[str | None, int | None]] = {}
    out = []
    for row in rows:
        if row.client_id not in names:
            client = db.get(Client, row.client_id)
            names[row.client_id] = client.name if client else row.client_id
        if row.mou_version_id not in versions:
            version = db.get(MouVersion, row.mou_version_id)
            mou = db.get(Mou, version.mou_id) if version else None
            versions[row.mou_version_id] = (
                mou.reference if mou else None,
                version.number if version else None,
            )
        reference, number = versions[row.mou_version_id]
        out.append(
            Release(
                row.released_at,
                row.client_id,
                names[row.client_id],
                reference,
                number,
                row.endpoint,
                tuple(row.claims),
            )
        )
    return out
