"""Settlement: the identity vouches add up to, kept up to date as vouches come to count, are
withdrawn, held for a namesake or lose their voucher; and the cascade when an identity is revoked."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import func, select

from broker.audit.log import record as audit
from broker.identity.namesakes import RULE, CountedVouch, held_entry, to_hold, unweighed
from broker.identity.service import (
    claimed_person,
    current,
    document_proven_namesakes,
    level,
    name_parts,
    namesake_records,
    proven_documents,
    records,
)
from broker.identity.vouching.base import requested_person, state
from broker.identity.vouching.graph import GraphChecks
from broker.notify.outbox import Outbox
from broker.policy.security_events import notify_identity_dropped
from broker.store.models import Account, IdentityRecord, Referee, Vouch, VouchRequest
from vouching.authorities import AuthorityUnavailable
from vouching.levels import NO_IDENTITY, at_least, rank
from vouching.proofing import recheck_by
from vouching.rules import PROVEN_ELSEWHERE
from vouching.scoring import assess
from vouching.vouches import EffectiveVouch, vouch_scores

log = structlog.get_logger(__name__)


class Settlement(GraphChecks):
    """Keeps each applicant's vouched identity in step with the vouches that count now."""

    def settle(self, applicant_id: str) -> IdentityRecord | None:
        """Bring the applicant's vouched identities up to date with the vouches that count now: a new
        record when one changes (never an edit), the old one revoked, services told when it drops.
        Every request that gave an identity is settled, not only the newest: asking for vouches again
        must not shelter an earlier identity from its vouches' withdrawal. Vouches whose voucher no
        longer holds P2, or whose voucher deleted their account, are withdrawn first. Returns the
        newest request's identity."""
        requests = list(
            self.db.scalars(
                select(VouchRequest)
                .filter_by(applicant_id=applicant_id)
                .order_by(VouchRequest.created_at.desc())
            )
        )
        if not requests:
            return None
        newest, *older = requests
        for request in older:
            if request.identity_record_id is not None:
                self._settle_request(applicant_id, request)
        return self._settle_request(applicant_id, newest)

    def _settle_request(self, applicant_id: str, request: VouchRequest) -> IdentityRecord | None:
        now = self.clock()
        effective: list[tuple[Vouch, EffectiveVouch]] = []
        applicant_documents = proven_documents(self.db, [applicant_id])[applicant_id]
        previous = (
            self.db.get(IdentityRecord, request.identity_record_id) if request.identity_record_id else None
        )
        counted = {e.get("vouch_id") for e in previous.evidence} if previous else set()
        for vouch in self.vouches(request):
            if state(vouch).status(now) != "effective" or request.cancelled_at is not None:
                continue
            if vouch.voucher_id is None:
                self._withdrawn(vouch, "system", "the voucher deleted their account")
                continue
            if not at_least(level(self.db, vouch.voucher_id, now.date()), self.policy.voucher_min_level):
                self._withdrawn(vouch, "system", "the voucher's own identity dropped")
                continue
            if vouch.id not in counted and self._held_for_namesake(vouch, request):
                continue
            keys = frozenset(self.address_keys([vouch.voucher_id])[vouch.voucher_id])
            documents = frozenset(proven_documents(self.db, [vouch.voucher_id])[vouch.voucher_id])
            if documents & applicant_documents or any(
                e.voucher_id == vouch.voucher_id or e.voucher_document_keys & documents for _, e in effective
            ):
                continue  # the applicant, or a voucher already counted, again: one person counts once
            effective.append((vouch, EffectiveVouch(vouch.voucher_id, vouch.is_referee, keys, documents)))
        used = sorted(v.id for v, _ in effective)
        if previous is not None and sorted(e.get("vouch_id", "") for e in previous.evidence) == used:
            return previous
        if previous is None and len(effective) < self.policy.min_vouchers:
            return None
        record = self._record(request, [v for v, _ in effective], [e for _, e in effective])
        request.identity_record_id = record.id
        if previous is not None:
            previous.revoked_at, previous.revoked_reason = now, "vouches changed"
        now_level = level(self.db, applicant_id, now.date())  # once the old record is revoked
        applicant = self.db.get(Account, applicant_id)
        if applicant is not None:
            applicant.identity_level = now_level
        if previous is not None and rank(record.level) < rank(previous.level):
            self._dropped(applicant_id, previous.level, now_level)
        return record

    def _held_for_namesake(self, vouch: Vouch, request: VouchRequest) -> bool:
        """A vouch about to count for someone whose name and date of birth a document has proved on
        another account since the vouch was given goes back to a reviewer (unless one accepted it
        knowing of that account): cooling-off must not let a vouched identity slip past the rule."""
        namesakes = document_proven_namesakes(
            self.db, requested_person(request), request.applicant_id, self.clock().date()
        )
        if not unweighed(vouch.refusals, vouch.reviewed_by is not None, namesakes):
            return False
        self._hold(vouch, namesakes, counted=False)
        return True

    def _hold(self, vouch: Vouch, namesakes: list[str], *, counted: bool) -> None:
        """Back to a reviewer for ``not_proven_elsewhere``, naming the document-proven accounts."""
        vouch.effective_at, vouch.review_reason = None, PROVEN_ELSEWHERE
        vouch.refusals = [*vouch.refusals, held_entry(namesakes, counted=counted)]
        audit(
            self.db,
            "vouch.flagged",
            now=self.clock(),
            actor="system",
            subject=vouch.applicant_id,
            vouch=vouch.id,
            rules=[RULE],
            proven_accounts=namesakes,
            counted=counted,  # true when it had counted towards an identity a document proof re-opened
        )

    def reopen_namesakes(self, proven: IdentityRecord) -> list[str]:
        """A document has just proved ``proven``: every other account whose identity, raised by
        vouches, names the same person (name and date of birth) has the vouches it counted held for
        review, and that identity settled again without them (a new record, the old one revoked,
        relying services told when it drops). Returns the accounts re-opened."""
        person = claimed_person(proven)
        if person is None:
            return []
        now = self.clock()
        today = now.date()
        reopened = []
        for record in namesake_records(self.db, person, proven.account_id, today, "vouching"):
            request = self.db.scalar(select(VouchRequest).filter_by(identity_record_id=record.id))
            if request is None:
                continue
            namesakes = document_proven_namesakes(
                self.db, requested_person(request), record.account_id, today
            )
            counted = {e.get("vouch_id") for e in record.evidence}
            vouches = {  # still standing: the others are withdrawn when the identity is settled
                v.id: v
                for v in self.vouches(request)
                if v.id in counted and v.voucher_id is not None and state(v).status(now) == "effective"
            }
            held = to_hold(
                (CountedVouch(v.id, tuple(v.refusals), v.reviewed_by is not None) for v in vouches.values()),
                namesakes,
            )
            if not held:
                continue
            for vouch_id in held:
                self._hold(vouches[vouch_id], namesakes, counted=True)
            try:
                with self.db.begin_nested():
                    self._settle_request(record.account_id, request)
            except AuthorityUnavailable:
                # Scoring the re-opened identity asks the authorities; one that does not answer must
                # not fail this person's own proof. The holds stand, and the identity is settled again
                # when it is next read (services and pages settle an identity before reading it).
                log.warning("re-opened identity to be settled later", reason="authority unavailable")
            reopened.append(record.account_id)
        return reopened

    def _record(
        self, request: VouchRequest, vouches: list[Vouch], effective: list[EffectiveVouch]
    ) -> IdentityRecord:
        now = self.clock()
        person = requested_person(request)
        fraud = self.authorities.fraud.check(person).score
        activity = self.authorities.activity.check(person, now.date()).score
        scores = vouch_scores(effective, activity, fraud)
        result = assess(scores)
        version = (
            self.db.scalar(
                select(func.max(IdentityRecord.version)).filter_by(account_id=request.applicant_id)
            )
            or 0
        ) + 1
        record = IdentityRecord(
            account_id=request.applicant_id,
            version=version,
            route="vouching",
            interaction_id=request.interaction_id,
            started_at=request.created_at,
            completed_at=now,
            names=[{"nameParts": name_parts(person), "validFrom": None, "validUntil": None}],
            birth_date=request.birth_date,
            addresses=[request.address],
            evidence=[
                {
                    "kind": "vouch",
                    "vouch_id": v.id,
                    "strength": e.strength,
                    "validity": e.validity,
                    "counts": True,
                    "checks": ["rules_passed", "cooling_off_ended"],
                    "problems": [],
                    "fraud_indicator": False,
                    "document": self._voucher_details(v),
                    "checked_at": now.isoformat(),
                }
                for v, e in zip(
                    sorted(vouches, key=lambda v: (not v.is_referee, v.voucher_id or "")),
                    scores.evidence,
                    strict=True,
                )
            ],
            activity=activity,
            fraud=fraud,
            verification=scores.verification,
            questions=[],
            level=result.level,
            profile=result.profile,
            recheck_by=recheck_by(now.date(), []),
        )
        self.db.add(record)
        self.db.flush()
        audit(
            self.db,
            "identity.check_completed",
            now=now,
            actor="system",
            subject=request.applicant_id,
            version=version,
            level=result.level,
            profile=result.profile,
            route="vouching",
        )
        return record

    def _voucher_details(self, vouch: Vouch) -> dict[str, Any]:
        """Who vouched, as released in ``verified_claims`` evidence (name; occupation for a referee)."""
        held = current(self.db, vouch.voucher_id or "", self.clock().date())
        person = claimed_person(held) if held else None
        referee = self.db.get(Referee, vouch.voucher_id) if vouch.is_referee and vouch.voucher_id else None
        return {
            "voucher_name": f"{person.given_names} {person.family_name}" if person else "",
            "occupation": referee.occupation if referee else None,
            "referee": vouch.is_referee,
            "time": vouch.accepted_at.isoformat() if vouch.accepted_at else None,
        }

    def _dropped(self, applicant_id: str, was: str, now_level: str) -> None:
        now = self.clock()
        applicant = self.db.get(Account, applicant_id)
        if applicant is not None:
            Outbox(self.db).send_email(
                applicant.email, "identity_dropped", {"link": f"{self.issuer}/account/identity"}, now
            )
        notify_identity_dropped(self.db, applicant_id, was, now_level, now)
        audit(
            self.db,
            "identity.level_dropped",
            now=now,
            actor="system",
            subject=applicant_id,
            previous=was,
            current=now_level,
        )

    def revoke_identity(self, account: Account, reason: str, actor: str) -> list[str]:
        """An identity found to be false: its records revoked, every vouch it gave withdrawn, and every
        identity that rested on those vouches re-scored. Returns the applicants re-scored."""
        now = self.clock()
        was = level(self.db, account.id, now.date())
        for held in records(self.db, account.id):
            if held.completed_at and held.revoked_at is None:
                held.revoked_at, held.revoked_reason = now, reason
        account.identity_level = NO_IDENTITY
        audit(self.db, "identity.revoked", now=now, actor=actor, subject=account.id, reason=reason)
        if was != NO_IDENTITY:
            notify_identity_dropped(self.db, account.id, was, NO_IDENTITY, now)
        given = self.db.scalars(
            select(Vouch).where(
                Vouch.voucher_id == account.id,
                Vouch.withdrawn_at.is_(None),
                Vouch.accepted_at.is_not(None),
            )
        ).all()
        reached = []
        for vouch in given:
            self._withdrawn(vouch, actor, "the voucher's identity was revoked")
            reached.append(vouch.applicant_id)
        for applicant_id in dict.fromkeys(reached):
            self.settle(applicant_id)
        return list(dict.fromkeys(reached))
