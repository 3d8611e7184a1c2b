"""MOUs and consent, stored: which version governs a service now, what a person agreed to under it,
the release decision with those facts, and the ledger of every release."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from broker.audit.log import record as audit
from broker.policy.claims import COMPANIONS, IDENTITY_CLAIMS, shareable
from broker.policy.mou import (
    DPO_FIELDS,
    EVER_APPROVED,
    AttributeTerm,
    PolicyError,
    Terms,
    Version,
    act,
    changes_needing_consent,
    governing_number,
)
from broker.policy.release import Agreement, ConsentFacts, Release, decide
from broker.store.base import new_id
from broker.store.catalog import Catalog
from broker.store.fast import Statement, inserting, instance
from broker.store.models import AuditEvent, Consent, Mou, MouVersion, ReleaseRecord

# Levels an MOU made from the command line asks for: identity attributes need a proven identity.
DEFAULT_LEVEL = {claim: "P1" for claim in IDENTITY_CLAIMS} | {
    "https://vocab.account.gov.uk/v1/returnCode": "P0"
}


def terms_of(row: MouVersion) -> Terms:
    return Terms(
        organisation=row.organisation,
        purpose=row.purpose,
        lawful_basis=row.lawful_basis,
        attributes=tuple(
            AttributeTerm(a["claim"], a["min_level"], bool(a["required"]), int(a["retention_days"]))
            for a in row.attributes
        ),
        start=row.start_date,
        end=row.end_date,
        review=row.review_date,
        onward_sharing=row.onward_sharing,
        security_commitments=row.security_commitments,
        contacts=row.contacts,
        organisation_cy=row.organisation_cy,
        purpose_cy=row.purpose_cy,
        lawful_basis_cy=row.lawful_basis_cy,
        **{name: getattr(row, name) for name in DPO_FIELDS},
    )


def version_of(row: MouVersion, mou: Mou) -> Version:
    return Version(
        mou.reference,
        row.number,
        mou.client_id,
        row.status,
        terms_of(row),
        row.author,
        row.approved_by,
        submitted_by=row.submitted_by,
    )


def governing(db: Session, client_id: str, *, today: date | None = None) -> MouVersion | None:
    """The version of the service's MOU that governs it on ``today`` (see ``governing_number``): the
    newest ever approved whose start date has come, whatever its state now. ``today`` is the
    broker's clock's date; without it, today's date (UTC)."""
    query = (
        select(MouVersion)
        .join(Mou, Mou.id == MouVersion.mou_id)
        .where(Mou.client_id == client_id, MouVersion.status.in_(EVER_APPROVED))
    )
    return _governing_of(list(db.scalars(query)), today)


def _governing_of(rows: list[MouVersion], today: date | None) -> MouVersion | None:
    day = today or datetime.now(UTC).date()
    number = governing_number(((r.number, r.status, r.start_date) for r in rows), day)
    return next((r for r in rows if r.number == number), None)


# The protocol endpoints read the agreement on every request: without the ORM (broker.store.fast).
_EVER_APPROVED_VERSIONS = Statement(
    select(*MouVersion.__table__.columns)
    .join(Mou, Mou.id == MouVersion.mou_id)
    .where(Mou.client_id == bindparam("client_id"), MouVersion.status.in_(EVER_APPROVED))
)
_CONSENT = Statement(
    select(*Consent.__table__.columns).where(
        Consent.account_id == bindparam("account_id"), Consent.client_id == bindparam("client_id")
    )
)
_RECORD_RELEASE = inserting(ReleaseRecord)


def agreement_for(
    db: Session, client_id: str, *, today: date | None = None, catalog: Catalog | None = None
) -> Agreement | None:
    """The agreement governing the service on ``today`` (UTC date; see ``governing``). Which version
    that is changes only on a day an approved version's start date comes, so the ``catalog`` may hold
    the versions ever approved and the choice is made again on each call."""

    def load() -> list[MouVersion]:
        return [instance(MouVersion, v) for v in _EVER_APPROVED_VERSIONS.rows(db, client_id=client_id)]

    row = _governing_of(catalog.versions(client_id, load) if catalog else load(), today)
    return Agreement(row.id, row.status, terms_of(row)) if row else None


def consent_facts(
    db: Session, account_id: str, client_id: str, agreement: Agreement | None
) -> ConsentFacts | None:
    """What the person agreed to, as it stands under the governing version: consent given under an
    earlier version that added attributes or changed the purpose no longer counts."""
    found = _CONSENT.first(db, account_id=account_id, client_id=client_id)
    row = instance(Consent, found) if found else None
    if row is None or row.withdrawn_at is not None:
        return None
    agreed = frozenset(row.claims)
    if agreement is not None and row.mou_version_id != agreement.version_id:
        earlier = db.get(MouVersion, row.mou_version_id) if row.mou_version_id else None
        if earlier is None or changes_needing_consent(terms_of(earlier), agreement.terms):
            return None
    return ConsentFacts(
        agreement.version_id if agreement else row.mou_version_id,
        agreement_claims(agreed),
        declined=frozenset(row.declined or ()),
        consent_id=row.id,
    )


def agreement_claims(claims: frozenset[str]) -> frozenset[str]:
    """Companion claims (``email_verified``) ride with their main claim."""
    return frozenset(claims | {c for claim in claims for c in COMPANIONS.get(claim, ())})


def with_companion_terms(terms: Terms) -> Terms:
    extra = tuple(
        AttributeTerm(companion, a.min_level, a.required, a.retention_days)
        for a in terms.attributes
        for companion in COMPANIONS.get(a.claim, ())
        if terms.attribute(companion) is None
    )
    if not extra:
        return terms
    return Terms(**{**terms.__dict__, "attributes": terms.attributes + extra})


def release_for(
    db: Session,
    *,
    account_id: str,
    client_id: str,
    requested: set[str] | frozenset[str],
    identity_level: str,
    now: datetime,
    consent_needed: bool = True,
) -> tuple[Release, Agreement | None]:
    agreement = agreement_for(db, client_id, today=now.date())
    if agreement is not None:
        agreement = Agreement(agreement.version_id, agreement.status, with_companion_terms(agreement.terms))
    consent = consent_facts(db, account_id, client_id, agreement)
    result = decide(
        agreement, frozenset(requested), consent, identity_level, now, consent_needed=consent_needed
    )
    return result, agreement


def record_release(
    db: Session,
    *,
    account_id: str,
    client_id: str,
    agreement: Agreement,
    consent_id: str | None,
    claims: set[str],
    endpoint: str,
    grant_id: str | None,
    now: datetime,
) -> None:
    names = sorted(shareable(claims))
    if not names:
        return
    _RECORD_RELEASE.run(
        db,
        id=new_id(),
        account_id=account_id,
        client_id=client_id,
        mou_version_id=agreement.version_id,
        consent_id=consent_id,
        grant_id=grant_id,
        endpoint=endpoint,
        claims=names,
        released_at=now,
    )


# Authoring
def create_mou(db: Session, client_id: str, reference: str, now: datetime) -> Mou:
    mou = Mou(reference=reference, client_id=client_id, created_at=now)
    db.add(mou)
    db.flush()
    return mou


def add_version(db: Session, mou: Mou, terms: Terms, author: str, now: datetime) -> MouVersion:
    number = (db.scalar(select(func.max(MouVersion.number)).filter_by(mou_id=mou.id)) or 0) + 1
    row = MouVersion(
        mou_id=mou.id,
        number=number,
        status="draft",
        organisation=terms.organisation,
        purpose=terms.purpose,
        lawful_basis=terms.lawful_basis,
        attributes=[a.as_dict() for a in terms.attributes],
        onward_sharing=terms.onward_sharing,
        start_date=terms.start,
        end_date=terms.end,
        review_date=terms.review,
        security_commitments=terms.security_commitments,
        contacts=terms.contacts,
        organisation_cy=terms.organisation_cy,
        purpose_cy=terms.purpose_cy,
        lawful_basis_cy=terms.lawful_basis_cy,
        **{name: getattr(terms, name) for name in DPO_FIELDS},
        author=author,
        created_at=now,
    )
    db.add(row)
    db.flush()
    audit(
        db,
        "mou.drafted",
        now=now,
        actor=author,
        subject=mou.client_id,
        reference=mou.reference,
        version=number,
    )
    return row


def apply(db: Session, row: MouVersion, action: str, actor: str, now: datetime, note: str = "") -> None:
    """Do ``action`` to a version, under the life-cycle rules (two-person approval included)."""
    mou = db.get(Mou, row.mou_id)
    assert mou is not None
    new = act(version_of(row, mou), action, actor)
    row.status, row.status_changed_at = new, now
    if action == "submit":
        row.submitted_at, row.submitted_by = now, actor
    if action in ("approve", "reject"):
        row.decision_note = note or None
    if action == "approve":
        row.approved_by, row.approved_at = actor, now
    # The reason staff gave is kept with the event, for every action (the version's history shows it).
    noted = {"note": note} if note else {}
    audit(
        db,
        f"mou.{action}",
        now=now,
        actor=actor,
        subject=mou.client_id,
        reference=mou.reference,
        version=row.number,
        status=new,
        **noted,
    )


def history(db: Session, mou: Mou, number: int) -> list[AuditEvent]:
    """What was done to one version, oldest first, with the note given each time."""
    events = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject == mou.client_id, AuditEvent.action.like("mou.%"))
        .order_by(AuditEvent.seq)
    )
    return [
        e
        for e in events
        if (e.details or {}).get("reference") == mou.reference and (e.details or {}).get("version") == number
    ]


# The lawful basis of an agreement the operator approves at the command line in development and test.
DEVELOPMENT_LAWFUL_BASIS = "Consent (UK GDPR Article 6(1)(a))"
# What staff registering a service in the console submit, for the approver to replace or accept.
REGISTRATION_LAWFUL_BASIS = "Recorded at registration; the approver confirms it before live use"


def _first_lawful_basis(proposed_by: str | None, operator_approves: bool) -> str:
    if proposed_by is not None:
        return REGISTRATION_LAWFUL_BASIS
    return DEVELOPMENT_LAWFUL_BASIS if operator_approves else ""  # a draft a policy author completes


def first_agreement(
    db: Session,
    client_id: str,
    claims: list[str],
    name: str,
    now: datetime,
    proposed_by: str | None = None,
    *,
    operator_approves: bool = False,
) -> MouVersion:
    """A new service's first MOU: its listed claims, from today for a year. Registered in the console,
    it is submitted by the staff member who registered it and needs an approver, someone else, before
    anything is shared (two-person approval). ``broker clients create`` (``proposed_by`` None) gives it
    approved by the operator only where ``operator_approves`` (development and test); elsewhere it is a
    draft with no lawful basis, which a policy author completes and submits and a second person
    approves, so no placeholder text reaches a public page."""
    mou = create_mou(db, client_id, f"MOU-{client_id[:12]}", now)
    today = now.date()
    terms = Terms(
        organisation=name,
        purpose=f"To let people sign in to {name} and use it.",
        lawful_basis=_first_lawful_basis(proposed_by, operator_approves),
        attributes=tuple(
            AttributeTerm(claim, DEFAULT_LEVEL.get(claim, "P0"), True, 365)
            for claim in shareable(set(claims))
        ),
        start=today,
        end=today + timedelta(days=365),
        review=today + timedelta(days=180),
    )
    if proposed_by is not None:
        row = add_version(db, mou, terms, proposed_by, now)
        apply(db, row, "submit", proposed_by, now)
        return row
    row = add_version(db, mou, terms, "operator", now)
    if not operator_approves:
        audit(
            db, "mou.draft", now=now, actor="operator", subject=client_id, reference=mou.reference, version=1
        )
        return row
    row.status, row.submitted_at = "approved", now
    row.approved_by, row.approved_at, row.status_changed_at = "operator (command line)", now, now
    audit(
        db,
        "mou.approve",
        now=now,
        actor="operator",
        subject=client_id,
        reference=mou.reference,
        version=1,
        status="approved",
    )
    return row


def as_export(mou: Mou, rows: list[MouVersion]) -> dict[str, Any]:
    return {
        "reference": mou.reference,
        "client_id": mou.client_id,
        "versions": [
            {
                "number": r.number,
                "status": r.status,
                "organisation": r.organisation,
                "purpose": r.purpose,
                "lawful_basis": r.lawful_basis,
                "attributes": r.attributes,
                "onward_sharing": r.onward_sharing,
                "start": r.start_date.isoformat(),
                "end": r.end_date.isoformat(),
                "review": r.review_date.isoformat(),
                "security_commitments": r.security_commitments,
                "contacts": r.contacts,
                "organisation_cy": r.organisation_cy,
                "purpose_cy": r.purpose_cy,
                "lawful_basis_cy": r.lawful_basis_cy,
                **{name: getattr(r, name) for name in DPO_FIELDS},
                "author": r.author,
                "approved_by": r.approved_by,
            }
            for r in rows
        ],
    }


def terms_from(data: dict[str, Any]) -> Terms:
    """Terms from an imported document; raises PolicyError naming what is missing or malformed, or
    what the console would refuse in a draft (``Terms.problems``)."""
    terms = _read_terms(data)
    problems = terms.problems()
    if problems:
        raise PolicyError("; ".join(problems))
    return terms


def _read_terms(data: dict[str, Any]) -> Terms:
    try:
        attributes = tuple(
            AttributeTerm(
                str(a["claim"]),
                str(a.get("min_level", "P0")),
                bool(a.get("required", True)),
                int(a.get("retention_days", 365)),
            )
            for a in data["attributes"]
        )
        return Terms(
            organisation=str(data["organisation"]),
            purpose=str(data["purpose"]),
            lawful_basis=str(data["lawful_basis"]),
            attributes=attributes,
            start=date.fromisoformat(str(data["start"])),
            end=date.fromisoformat(str(data["end"])),
            review=date.fromisoformat(str(data["review"])),
            onward_sharing=bool(data.get("onward_sharing", False)),
            security_commitments=str(data.get("security_commitments", "")),
            contacts=str(data.get("contacts", "")),
            organisation_cy=str(data.get("organisation_cy") or ""),
            purpose_cy=str(data.get("purpose_cy") or ""),
            lawful_basis_cy=str(data.get("lawful_basis_cy") or ""),
            **{name: str(data.get(name) or "") for name in DPO_FIELDS},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"the MOU document is not complete or not well formed: {exc}") from None
