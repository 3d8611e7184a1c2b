"""Identity proofing, stored: attempts as versioned records, evidence added as the journey goes, and
the person's current identity (the best completed record still in date)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from broker.audit.log import record as audit
from broker.identity.errors import DocumentInUse
from broker.identity.evidence import document_fingerprint, sealed
from broker.store.models import Account, IdentityRecord, ProvenDocument
from vouching.authorities import Authorities, Question
from vouching.documents import fingerprint
from vouching.levels import NO_IDENTITY, rank
from vouching.person import Address, ClaimedPerson, normalise_name
from vouching.proofing import IN_USE, DocumentCheck, recheck_by
from vouching.scoring import Assessment, Evidence, Scores, assess


def name_parts(person: ClaimedPerson) -> list[dict[str, str]]:
    parts = [{"type": "GivenName", "value": given} for given in person.given_names.split()]
    return [*parts, {"type": "FamilyName", "value": person.family_name.strip()}]


def claimed_person(record: IdentityRecord) -> ClaimedPerson | None:
    if not record.names or record.birth_date is None:
        return None
    parts = record.names[0]["nameParts"]
    given = " ".join(p["value"] for p in parts if p["type"] == "GivenName")
    family = " ".join(p["value"] for p in parts if p["type"] == "FamilyName")
    return ClaimedPerson(given, family, record.birth_date)


def person_key(person: ClaimedPerson) -> str:
    """Who a document check was about, as the document prints it (names and date of birth)."""
    names = f"{normalise_name(person.given_names)}|{normalise_name(person.family_name)}"
    return f"{names}|{person.birth_date.isoformat()}"


def evidence_about_claimed(record: IdentityRecord) -> list[dict[str, Any]]:
    """The evidence about the person the record now claims. A check about anyone else in the same
    attempt (a corrected typing mistake, or someone's own passport followed by another person's
    details) proves nothing about them. Entries from before this was recorded count as about them."""
    person = claimed_person(record)
    key = person_key(person) if person else None
    return [e for e in record.evidence if e.get("about", key) == key]


def scores_of(record: IdentityRecord) -> Scores:
    evidence = tuple(
        Evidence(e["kind"], e["strength"], e["validity"]) for e in evidence_about_claimed(record)
    )
    return Scores(evidence, record.activity, record.fraud, record.verification)


def is_current(record: IdentityRecord, today: date) -> bool:
    return (
        record.completed_at is not None
        and record.revoked_at is None
        and (record.recheck_by is None or record.recheck_by >= today)
    )


def records(db: Session, account_id: str) -> list[IdentityRecord]:
    query = select(IdentityRecord).filter_by(account_id=account_id).order_by(IdentityRecord.version)
    return list(db.scalars(query))


def current(db: Session, account_id: str, today: date) -> IdentityRecord | None:
    """The completed record with the highest level still in date (the newest among equals).
    A later attempt that reached less does not take away what an earlier one proved."""
    held = [r for r in records(db, account_id) if is_current(r, today) and r.level != NO_IDENTITY]
    return max(held, key=lambda r: (rank(r.level), r.version), default=None)


def level(db: Session, account_id: str, today: date) -> str:
    record = current(db, account_id, today)
    return record.level if record else NO_IDENTITY


def namesake_records(
    db: Session, person: ClaimedPerson, account_id: str, today: date, route: str
) -> list[IdentityRecord]:
    """Other accounts' identities still standing, reached by ``route`` (``documents`` or ``vouching``),
    that name this person (names and date of birth, compared as documents print them): found by birth
    date (indexed), then by name."""
    held = db.scalars(
        select(IdentityRecord).where(
            IdentityRecord.birth_date == person.birth_date,
            IdentityRecord.route == route,
            IdentityRecord.account_id != account_id,
            IdentityRecord.level != NO_IDENTITY,
            IdentityRecord.revoked_at.is_(None),
        )
    )
    key = person_key(person)
    named = (r for r in held if is_current(r, today))
    return [r for r in named if (p := claimed_person(r)) and person_key(p) == key]


def document_proven_namesakes(db: Session, person: ClaimedPerson, account_id: str, today: date) -> list[str]:
    """Other accounts holding an identity proven with a document that names this person."""
    return sorted({r.account_id for r in namesake_records(db, person, account_id, today, "documents")})


def counted_documents(record: IdentityRecord, key: bytes) -> list[tuple[int, str, str]]:
    """(index in the evidence, kind, fingerprint) of each document that counts for this record: about
    the person it claims, and earning something."""
    about = {id(e) for e in evidence_about_claimed(record)}
    out = []
    for i, entry in enumerate(record.evidence):
        print_ = document_fingerprint(entry, key)
        if print_ and id(entry) in about and entry["counts"]:
            out.append((i, entry["kind"], print_))
    return out


def holder(db: Session, print_: str) -> str | None:
    """The account a document proved, if it proved one."""
    return db.scalar(select(ProvenDocument.account_id).filter_by(fingerprint=print_))


def lock_documents(db: Session, prints: list[str]) -> None:
    """Two accounts completing with one document at once: the second waits for the first's commit,
    then finds the document taken (PostgreSQL; SQLite's write lock at BEGIN serialises already)."""
    if db.get_bind().dialect.name == "postgresql":
        for print_ in sorted(prints):
            db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(print_[:15], 16)})


def proven_documents(db: Session, account_ids: list[str]) -> dict[str, set[str]]:
    """The fingerprints of the documents that proved each of these people's identity, in one query."""
    out: dict[str, set[str]] = {a: set() for a in account_ids}
    if account_ids:
        rows = db.execute(
            select(ProvenDocument.account_id, ProvenDocument.fingerprint).where(
                ProvenDocument.account_id.in_(account_ids)
            )
        )
        for account_id, print_ in rows:
            out[account_id].add(print_)
    return out


class IdentityService:
    def __init__(
        self,
        db: Session,
        clock: Callable[[], datetime],
        authorities: Authorities,
        document_key: bytes,
        *,
        reopen_namesakes: Callable[[IdentityRecord], object],
    ) -> None:
        """``document_key`` fingerprints documents (``KeyService.document_key``); it has no default.
        ``reopen_namesakes``: the vouching service's (``VouchingService.reopen_namesakes``), called when
        a document proves someone, so that vouches alone stop giving another account that identity.
        It is passed in because the vouching service builds on this module."""
        if not document_key:
            raise ValueError("IdentityService needs the document key")
        self.db = db
        self.clock = clock
        self.authorities = authorities
        self.document_key = document_key
        self.reopen_namesakes = reopen_namesakes

    def history(self, account_id: str) -> list[IdentityRecord]:
        """Every completed check, newest first."""
        return [r for r in reversed(records(self.db, account_id)) if r.completed_at is not None]

    def current(self, account_id: str) -> IdentityRecord | None:
        return current(self.db, account_id, self.clock().date())

    def attempt(self, account_id: str) -> IdentityRecord | None:
        """The attempt under way, if any."""
        held = records(self.db, account_id)
        return held[-1] if held and held[-1].completed_at is None else None

    def start(self, account: Account, interaction_id: str | None) -> IdentityRecord:
        now = self.clock()
        under_way = self.attempt(account.id)
        if under_way is not None:  # starting again abandons the attempt under way, kept as it is
            under_way.completed_at = now
        version = (
            self.db.scalar(select(func.max(IdentityRecord.version)).filter_by(account_id=account.id)) or 0
        ) + 1
        record = IdentityRecord(
            account_id=account.id,
            version=version,
            route="documents",
            interaction_id=interaction_id,
            started_at=now,
            names=[],
            addresses=[],
            evidence=[],
            questions=[],
            activity=0,
            fraud=0,
            verification=0,
            level=NO_IDENTITY,
        )
        self.db.add(record)
        self.db.flush()
        audit(
            self.db, "identity.check_started", now=now, actor=account.id, subject=account.id, version=version
        )
        return record

    # One document, one account
    def _reused(self, account_id: str, kind: str, holder: str) -> None:
        audit(
            self.db,
            "identity.document_reused",
            now=self.clock(),
            actor=account_id,
            subject=account_id,
            kind=kind,
            proven_account=holder,
        )

    def check_document_free(self, account: Account, kind: str, number: str) -> None:
        """Raises :class:`DocumentInUse` (and keeps an audit event) when the document already proved an
        identity on another account; asked before the authority is, so a refused document costs no
        look-up."""
        held_by = holder(self.db, fingerprint(self.document_key, kind, number))
        if held_by is not None and held_by != account.id:
            self._reused(account.id, kind, held_by)
            raise DocumentInUse(kind)

    def _settle_documents(self, record: IdentityRecord, account_id: str) -> list[tuple[str, str]]:
        """Documents another account was proven with stop counting here; returns (kind, fingerprint)
        of the rest, to keep once the record proves an identity."""
        documents = counted_documents(record, self.document_key)
        lock_documents(self.db, [p for _i, _k, p in documents])
        kept, evidence = [], list(record.evidence)
        for i, kind, print_ in documents:
            held_by = holder(self.db, print_)
            if held_by is None or held_by == account_id:
                kept.append((kind, print_))
                continue
            self._reused(account_id, kind, held_by)
            evidence[i] = {
                **evidence[i],
                "strength": 0,
                "validity": 0,
                "counts": False,
                "problems": [*evidence[i]["problems"], IN_USE[kind]],
            }
        # An attempt begun before numbers were masked has them masked as it completes.
        record.evidence = [sealed(e, self.document_key) for e in evidence]
        return list(dict.fromkeys(kept))  # one document entered twice in an attempt is one document

    def _keep_documents(self, record: IdentityRecord, account_id: str, kept: list[tuple[str, str]]) -> None:
        now = self.clock()
        for kind, print_ in kept:
            if holder(self.db, print_) is None:
                self.db.add(
                    ProvenDocument(
                        fingerprint=print_,
                        kind=kind,
                        account_id=account_id,
                        identity_record_id=record.id,
                        proven_at=now,
                    )
                )

    def add_document(
        self, record: IdentityRecord, person: ClaimedPerson, check: DocumentCheck, details: dict[str, Any]
    ) -> None:
        """The claimed identity and what the document earned (a failed document is kept too). The
        document's number is stored masked, beside its fingerprint (:func:`sealed`)."""
        now = self.clock()
        record.names = [{"nameParts": name_parts(person), "validFrom": None, "validUntil": None}]
        record.birth_date = person.birth_date
        entry = {
            "kind": check.kind,
            "strength": check.evidence.strength if check.evidence else 0,
            "validity": check.evidence.validity if check.evidence else 0,
            "counts": check.evidence is not None,
            "checks": list(check.checks),
            "problems": list(check.problems),
            "fraud_indicator": check.fraud_indicator,
            "document": details,
            "checked_at": now.isoformat(),
            "about": person_key(person),
        }
        record.evidence = [*record.evidence, sealed(entry, self.document_key)]
        audit(
            self.db,
            "identity.evidence_checked",
            now=now,
            actor=record.account_id,
            subject=record.account_id,
            kind=check.kind,
            strength=entry["strength"],
            validity=entry["validity"],
            passed=list(check.checks),
        )

    def add_address(self, record: IdentityRecord, addresses: list[Address]) -> None:
        """Addresses (current first), then the fraud and activity checks made against the person."""
        person = claimed_person(record)
        assert person is not None, "a document comes before the address"
        record.addresses = [a.as_dict() for a in addresses]
        fraud = self.authorities.fraud.check(person)
        # A document reported lost, stolen or cancelled outweighs a clear fraud check.
        flagged = any(e["fraud_indicator"] for e in record.evidence)
        record.fraud = 0 if flagged else fraud.score
        record.activity = self.authorities.activity.check(person, self.clock().date()).score

    def questions(self, record: IdentityRecord) -> list[Question]:
        person = claimed_person(record)
        asked = self.authorities.knowledge.questions(person) if person else []
        record.questions = [asdict(q) for q in asked]
        return asked

    def answer(self, record: IdentityRecord, answers: dict[str, str]) -> None:
        person = claimed_person(record)
        assert person is not None
        record.verification = self.authorities.knowledge.mark(person, answers).score

    def complete(self, record: IdentityRecord, account: Account) -> Assessment:
        now = self.clock()
        kept = self._settle_documents(record, account.id)
        result = assess(scores_of(record))
        if result.level != NO_IDENTITY:
            self._keep_documents(record, account.id, kept)
        expiries = [
            date.fromisoformat(e["document"]["expiryDate"])
            for e in evidence_about_claimed(record)
            if e["counts"]
        ]
        record.level, record.profile = result.level, result.profile
        record.recheck_by = recheck_by(now.date(), expiries)
        record.completed_at = now
        self.db.flush()
        account.identity_level = level(self.db, account.id, now.date())
        audit(
            self.db,
            "identity.check_completed",
            now=now,
            actor=account.id,
            subject=account.id,
            version=record.version,
            level=result.level,
            profile=result.profile,
        )
        if result.level != NO_IDENTITY:
            self.reopen_namesakes(record)
        return result
