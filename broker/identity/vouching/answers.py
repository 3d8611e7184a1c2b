"""Answers: the voucher vouches or says no, either side withdraws, and a reviewer decides a vouch the
rules held back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from broker.audit.log import record as audit
from broker.identity.errors import ConflictOfInterest, NotInvited
from broker.identity.namesakes import RULE, cooled_off, held_entry
from broker.identity.service import document_proven_namesakes, proven_documents
from broker.identity.vouching.base import ACKNOWLEDGEMENT, address_key, is_invited, requested_person
from broker.identity.vouching.settlement import Settlement
from broker.notify.outbox import Outbox
from broker.store.models import Account, Vouch, VouchRequest
from vouching.person import Address
from vouching.rules import Applicant, Case, Refusal, Statement, check_vouch


class Answers(Settlement):
    """What the voucher, the applicant and a reviewer do with a vouch once it is invited."""

    def answer(self, vouch: Vouch, voucher: Account, statement: Statement) -> list[Refusal]:
        """The voucher's declaration, checked by every rule; kept whatever the outcome. Only the
        person invited may answer (:func:`is_invited`)."""
        self.check_invited(vouch, voucher)
        now = self.clock()
        request = self.db.get(VouchRequest, vouch.request_id)
        assert request is not None
        address = Address.from_dict(request.address)
        namesakes = document_proven_namesakes(
            self.db, requested_person(request), request.applicant_id, now.date()
        )
        applicant = Applicant(
            request.applicant_id,
            request.given_names,
            request.family_name,
            request.birth_date,
            address_key(address),
            frozenset(proven_documents(self.db, [request.applicant_id])[request.applicant_id]),
            proven_elsewhere=bool(namesakes),
        )
        facts = self.voucher_facts(voucher)
        refusals = check_vouch(
            Case(applicant, facts, statement, self.circle(request, voucher.id), now, self.policy)
        )
        vouch.voucher_id = voucher.id
        vouch.relationship, vouch.known_years = statement.relationship, statement.known_years
        vouch.lives_with_applicant = statement.lives_with_applicant
        vouch.acknowledgement = ACKNOWLEDGEMENT
        vouch.is_referee = facts.is_referee
        vouch.refusals = [
            held_entry(namesakes, counted=False)
            if r.rule == RULE
            else {"rule": r.rule, "reason": r.reason, "review": r.review}
            for r in refusals
        ]

        def recorded(action: str, **details: Any) -> None:
            audit(
                self.db,
                action,
                now=now,
                actor=voucher.id,
                subject=request.applicant_id,
                vouch=vouch.id,
                **details,
            )

        rules = [r.rule for r in refusals]
        if any(not r.review for r in refusals):
            vouch.refused_at = now
            recorded("vouch.refused", rules=rules)
            return refusals
        vouch.accepted_at = now
        if refusals:
            vouch.review_reason = refusals[0].reason
            recorded("vouch.flagged", rules=rules, **({"proven_accounts": namesakes} if namesakes else {}))
        else:
            vouch.effective_at = now + self.policy.cooling_off
            recorded("vouch.accepted")
            self._tell_cooling_off(request, vouch, voucher)
        return refusals

    def _tell_cooling_off(self, request: VouchRequest, vouch: Vouch, voucher: Account) -> None:
        assert vouch.effective_at is not None
        when = f"{vouch.effective_at:%-d %B %Y}"
        outbox, now = Outbox(self.db), self.clock()
        applicant = self.db.get(Account, request.applicant_id)
        if applicant is not None:
            outbox.send_email(
                applicant.email,
                "vouch_received",
                {"date": when, "link": f"{self.issuer}/identity/vouching"},
                now,
            )
        outbox.send_email(
            voucher.email,
            "vouch_given",
            {
                "name": f"{request.given_names} {request.family_name}",
                "date": when,
                "link": f"{self.issuer}/account/vouches",
            },
            now,
        )

    def check_invited(self, vouch: Vouch, account: Account) -> None:
        """Raises :class:`NotInvited` (and keeps an audit event) unless ``account`` is the one invited."""
        if not is_invited(vouch, account):
            raise self.not_invited(vouch, account)

    def not_invited(self, vouch: Vouch, account: Account) -> NotInvited:
        """Someone else's account opened the invitation: kept in the audit log; the error to raise."""
        audit(
            self.db,
            "vouch.not_invited",
            now=self.clock(),
            actor=account.id,
            subject=vouch.applicant_id,
            vouch=vouch.id,
        )
        return NotInvited("email", "This invitation was sent to a different email address.")

    def decline(self, vouch: Vouch, voucher: Account) -> None:
        self.check_invited(vouch, voucher)
        now = self.clock()
        vouch.voucher_id, vouch.declined_at = voucher.id, now
        audit(
            self.db, "vouch.declined", now=now, actor=voucher.id, subject=vouch.applicant_id, vouch=vouch.id
        )

    def withdraw(self, vouch: Vouch, actor: str, reason: str) -> None:
        """Withdrawn by the applicant or the voucher; the applicant's identity follows at once."""
        if self._withdrawn(vouch, actor, reason):
            self.settle(vouch.applicant_id)

    def review(self, vouch: Vouch, reviewer: Account, accept: bool, note: str) -> None:
        """A reviewer's decision on a held vouch. Nobody decides a vouch they gave or received."""
        if reviewer.id in (vouch.applicant_id, vouch.voucher_id):
            raise ConflictOfInterest(
                "note", "You gave or received this vouch: another reviewer must decide it."
            )
        now = self.clock()
        vouch.reviewed_by, vouch.review_note = reviewer.id, note
        again = accept and cooled_off(vouch.refusals)
        if accept:
            vouch.effective_at = now if again else now + self.policy.cooling_off
        else:
            vouch.refused_at = now
        audit(
            self.db,
            "vouch.reviewed",
            now=now,
            actor=reviewer.id,
            subject=vouch.applicant_id,
            vouch=vouch.id,
            accepted=accept,
        )
        if again:  # it had counted before it was held: the identity stands on it again now
            self.settle(vouch.applicant_id)

    def flagged(self) -> list[Vouch]:
        query = select(Vouch).where(
            Vouch.accepted_at.is_not(None),
            Vouch.effective_at.is_(None),
            Vouch.refused_at.is_(None),
            Vouch.withdrawn_at.is_(None),
        )
        return list(self.db.scalars(query.order_by(Vouch.accepted_at)))
