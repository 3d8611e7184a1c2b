from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from broker.store.base import Base, id_column


class VouchRequest(Base):
    """An applicant without photo ID asks people who know them to vouch for who they say they are."""

    __tablename__ = "vouch_request"

    id: Mapped[str] = id_column()
    applicant_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    given_names: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    address: Mapped[dict[str, Any]]  # as vouching.person.Address.as_dict()
    address_key: Mapped[str] = mapped_column(String(64), index=True)
    interaction_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    # The identity record this request produced, once enough vouches took effect.
    identity_record_id: Mapped[str | None] = mapped_column(String(36))


class Vouch(Base):
    """One invitation to vouch and, once the voucher answers, their vouch. The link's secret is stored
    only as a hash; the statement and acknowledgement are kept with the vouch."""

    __tablename__ = "vouch"

    id: Mapped[str] = id_column()
    request_id: Mapped[str] = mapped_column(ForeignKey("vouch_request.id", ondelete="CASCADE"), index=True)
    applicant_id: Mapped[str] = mapped_column(String(36), index=True)
    invited_email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    voucher_id: Mapped[str | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    relationship: Mapped[str | None] = mapped_column(String(24))
    known_years: Mapped[int | None] = mapped_column(Integer)
    lives_with_applicant: Mapped[bool | None] = mapped_column(Boolean)
    acknowledgement: Mapped[str | None] = mapped_column(Text)  # the words the voucher agreed to
    is_referee: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted_at: Mapped[datetime | None]
    effective_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(String(200))
    refused_at: Mapped[datetime | None]
    refusals: Mapped[list[Any]] = mapped_column(default=list)  # [{"rule", "reason", "review"}]
    review_reason: Mapped[str | None] = mapped_column(String(200))
    reviewed_by: Mapped[str | None] = mapped_column(String(36))
    review_note: Mapped[str | None] = mapped_column(Text)


class Referee(Base):
    """A voucher in a registered professional role, recorded by an administrator with the evidence."""

    __tablename__ = "referee"

    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    occupation: Mapped[str] = mapped_column(String(120))
    registration_body: Mapped[str] = mapped_column(String(120))
    registration_number: Mapped[str] = mapped_column(String(64))
    evidence_note: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(36))
    recorded_at: Mapped[datetime]
