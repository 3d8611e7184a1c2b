from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.base import Base, id_column


class Mou(Base):
    """A data sharing agreement between the broker's operator and one relying service."""

    __tablename__ = "mou"

    id: Mapped[str] = id_column()
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    # One MOU per service: its versions are the one history the governing version is chosen from.
    client_id: Mapped[str] = mapped_column(
        ForeignKey("client.client_id", ondelete="CASCADE"), index=True, unique=True
    )
    created_at: Mapped[datetime]


class MouVersion(Base):
    """One version of an MOU's terms. Immutable once approved: a change is a new version."""

    __tablename__ = "mou_version"
    __table_args__ = (UniqueConstraint("mou_id", "number"),)

    id: Mapped[str] = id_column()
    mou_id: Mapped[str] = mapped_column(ForeignKey("mou.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    organisation: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    lawful_basis: Mapped[str] = mapped_column(String(200))
    attributes: Mapped[list[Any]]  # [{"claim", "min_level", "required", "retention_days"}]
    onward_sharing: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    review_date: Mapped[date] = mapped_column(Date)
    security_commitments: Mapped[str] = mapped_column(Text, default="")
    contacts: Mapped[str] = mapped_column(Text, default="")
    # The words people read, in Welsh: empty until staff give them (the console flags a version
    # without them, and Welsh pages never put the English inside a Welsh sentence).
    organisation_cy: Mapped[str] = mapped_column(String(200), default="", server_default="")
    purpose_cy: Mapped[str] = mapped_column(Text, default="", server_default="")
    lawful_basis_cy: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # What a data protection officer needs (broker.policy.mou.DPO_FIELDS; migration 0013): empty on
    # versions written before they were asked.
    dpia_reference: Mapped[str] = mapped_column(String(64), default="", server_default="")
    controller_relationship: Mapped[str] = mapped_column(String(32), default="", server_default="")
    special_category_condition: Mapped[str] = mapped_column(Text, default="", server_default="")
    deletion_on_end: Mapped[str] = mapped_column(Text, default="", server_default="")
    owner_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    owner_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    dpo_contact: Mapped[str] = mapped_column(String(500), default="", server_default="")
    breach_contact: Mapped[str] = mapped_column(String(500), default="", server_default="")
    international_transfers: Mapped[str] = mapped_column(Text, default="", server_default="")
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[str | None] = mapped_column(String(64))  # nobody approves what they submitted
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None]


class ReleaseRecord(Base):
    """The release ledger: who received which attributes, under which MOU version and consent, when,
    through which endpoint and for which grant. Append-only."""

    __tablename__ = "release_record"

    id: Mapped[str] = id_column()
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    mou_version_id: Mapped[str] = mapped_column(String(36))
    consent_id: Mapped[str | None] = mapped_column(String(36))
    grant_id: Mapped[str | None] = mapped_column(String(36))
    endpoint: Mapped[str] = mapped_column(String(16))  # "token" (ID token) or "userinfo"
    claims: Mapped[list[str]]
    released_at: Mapped[datetime] = mapped_column(index=True)
