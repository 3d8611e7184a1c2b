"""Requests and invitations: the applicant asks to be vouched for, invites people by email, and may
cancel; an invitation is found by its link's token."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from broker.accounts.service import normalise_email
from broker.audit.log import record as audit
from broker.identity.errors import VouchingError
from broker.identity.vouching.base import Invitation, address_key, token_hash
from broker.identity.vouching.settlement import Settlement
from broker.notify.outbox import Outbox
from broker.store.models import Account, Vouch, VouchRequest
from vouching.person import Address, ClaimedPerson
from vouching.text import N_, Filled


class Requests(Settlement):
    """The applicant's side: a request for vouches and its invitations."""

    def open_request(self, applicant_id: str) -> VouchRequest | None:
        query = (
            select(VouchRequest)
            .filter_by(applicant_id=applicant_id, cancelled_at=None)
            .order_by(VouchRequest.created_at.desc())
        )
        return self.db.scalars(query).first()

    def start(
        self, account: Account, person: ClaimedPerson, address: Address, interaction_id: str | None
    ) -> VouchRequest:
        now = self.clock()
        under_way = self.open_request(account.id)
        if under_way is not None and under_way.identity_record_id is None:
            self.cancel(under_way, account.id)
        request = VouchRequest(
            applicant_id=account.id,
            given_names=person.given_names,
            family_name=person.family_name,
            birth_date=person.birth_date,
            address=address.as_dict(),
            address_key=address_key(address),
            interaction_id=interaction_id,
            created_at=now,
        )
        self.db.add(request)
        self.db.flush()
        audit(
            self.db, "vouching.requested", now=now, actor=account.id, subject=account.id, request=request.id
        )
        return request

    def invite(self, request: VouchRequest, applicant: Account, emails: list[str]) -> list[Invitation]:
        now = self.clock()
        wanted = list(dict.fromkeys(normalise_email(e) for e in emails if e))
        if normalise_email(applicant.email) in wanted:
            raise VouchingError("email1", N_("Enter the email addresses of other people, not your own"))
        already = {v.invited_email for v in self.vouches(request)}
        fresh = [e for e in wanted if e not in already]
        if len(already) + len(fresh) < self.policy.min_vouchers:
            raise VouchingError(
                "email1",
                Filled(
                    N_("Enter the email addresses of at least %(number)s different people"),
                    number=self.policy.min_vouchers,
                ),
            )
        out = []
        for email in fresh:
            token = secrets.token_urlsafe(32)
            vouch = Vouch(
                request_id=request.id,
                applicant_id=request.applicant_id,
                invited_email=email,
                token_hash=token_hash(token),
                invited_at=now,
                expires_at=now + self.policy.invitation_lifetime,
                refusals=[],
                is_referee=False,
            )
            self.db.add(vouch)
            Outbox(self.db).send_email(
                email,
                "vouch_invitation",
                {
                    "name": f"{request.given_names} {request.family_name}",
                    "link": f"{self.issuer}/vouch/{token}",
                    "days": self.policy.invitation_lifetime.days,
                },
                now,
            )
            out.append(Invitation(vouch, token))
        self.db.flush()
        audit(
            self.db,
            "vouching.invited",
            now=now,
            actor=request.applicant_id,
            subject=request.applicant_id,
            invitations=len(out),
        )
        return out

    def vouches(self, request: VouchRequest) -> list[Vouch]:
        return list(
            self.db.scalars(select(Vouch).filter_by(request_id=request.id).order_by(Vouch.invited_at))
        )

    def cancel(self, request: VouchRequest, actor: str) -> None:
        now = self.clock()
        request.cancelled_at = now
        for vouch in self.vouches(request):
            if vouch.declined_at is None:
                self._withdrawn(vouch, actor, "the applicant cancelled")
        audit(
            self.db,
            "vouching.cancelled",
            now=now,
            actor=actor,
            subject=request.applicant_id,
            request=request.id,
        )
        self.settle(request.applicant_id)

    def invitation(self, token: str) -> Vouch | None:
        return self.db.scalar(select(Vouch).filter_by(token_hash=token_hash(token)))
