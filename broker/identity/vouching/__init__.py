"""Social vouching as a service: requests and invitations (:mod:`.requests`), answers and reviews
(:mod:`.answers`), the identity vouches add up to (:mod:`.settlement`) and the graph checks the rules
decide on (:mod:`.graph`). Pure decisions live in ``vouching/``; this package gathers their facts and
keeps what they decide.

:class:`VouchingService` also holds the operations the pages call, one per action, each its own unit
of work (committed when it succeeds, rolled back when it fails). Its building blocks (``start``,
``invite``, ``answer``, ``settle`` ...) never commit: they run inside those operations, inside the
identity check's, and inside the protocol endpoints' transactions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from broker.identity.errors import (
    ConflictOfInterest,
    InvitationUsed,
    NoSuchVouch,
    NotInvited,
    VouchingError,
)
from broker.identity.guard import require_proofing
from broker.identity.service import current
from broker.identity.vouching.answers import Answers
from broker.identity.vouching.base import (
    ACKNOWLEDGEMENT,
    Invitation,
    address_key,
    is_invited,
    requested_person,
    state,
    token_hash,
)
from broker.identity.vouching.graph import VouchGraph
from broker.identity.vouching.requests import Requests
from broker.store.models import Account, IdentityRecord, Vouch, VouchRequest
from broker.store.unit import unit_of_work
from vouching.person import Address, ClaimedPerson
from vouching.rules import Refusal, Statement
from vouching.vouches import EffectiveVouch

__all__ = [
    "ACKNOWLEDGEMENT",
    "ConflictOfInterest",
    "Invitation",
    "NotInvited",
    "Progress",
    "VouchGraph",
    "VouchingError",
    "VouchingService",
    "address_key",
    "is_invited",
    "requested_person",
    "state",
    "token_hash",
]


@dataclass(frozen=True)
class Progress:
    """The applicant's request as it stands: its vouches, the identity they hold, and the vouches that
    count now (for the advice on what would raise it)."""

    request: VouchRequest
    vouches: list[Vouch]
    held: IdentityRecord | None
    effective: list[EffectiveVouch]
    needed: int


class VouchingService(Requests, Answers):
    """Social vouching for one request's session; built by :func:`broker.identity.wiring.vouching_service`."""

    # The applicant
    def ask(
        self, account: Account, person: ClaimedPerson, address: Address, interaction_id: str | None
    ) -> VouchRequest:
        """A new request for vouches (a request that gave no identity yet is cancelled)."""
        require_proofing(self.authorities)
        with unit_of_work(self.db):
            return self.start(account, person, address, interaction_id)

    def request_of(self, account_id: str) -> VouchRequest:
        require_proofing(self.authorities)
        found = self.open_request(account_id)
        if found is None:
            raise NoSuchVouch(
                "You have not asked anyone to vouch for you. Go to Prove your identity to start."
            )
        return found

    def send_invitations(self, applicant: Account, emails: list[str]) -> list[Invitation]:
        with unit_of_work(self.db):
            return self.invite(self.request_of(applicant.id), applicant, emails)

    def progress(self, applicant: Account) -> Progress:
        """The request's vouches and the identity they give, settled first (cooling-off may have ended)."""
        found = self.request_of(applicant.id)
        with unit_of_work(self.db):
            self.settle(applicant.id)
        now = self.clock()
        vouches = self.vouches(found)
        counted = [v for v in vouches if v.voucher_id and state(v).status(now) == "effective"]
        homes = self.address_keys(v.voucher_id or "" for v in counted)
        effective = [
            EffectiveVouch(v.voucher_id or "", v.is_referee, frozenset(homes[v.voucher_id or ""]))
            for v in counted
        ]
        held = current(self.db, applicant.id, now.date())
        return Progress(found, vouches, held, effective, self.policy.min_vouchers)

    def cancel_request(self, applicant: Account) -> None:
        with unit_of_work(self.db):
            self.cancel(self.request_of(applicant.id), applicant.id)

    def applicant_withdraws(self, applicant: Account, vouch_id: str) -> None:
        with unit_of_work(self.db):
            found = self.request_of(applicant.id)
            vouch = self.db.get(Vouch, vouch_id)
            if vouch is None or vouch.request_id != found.id:
                raise NoSuchVouch("There is no such vouch.")
            self.withdraw(vouch, applicant.id, "the applicant withdrew it")

    def received(self, applicant_id: str) -> list[Vouch]:
        """Every vouch the person asked for, newest first."""
        query = select(Vouch).filter_by(applicant_id=applicant_id).order_by(Vouch.invited_at.desc())
        return list(self.db.scalars(query))

    # The voucher
    def open_invitation(self, token: str, voucher: Account) -> tuple[Vouch, VouchRequest]:
        """The invitation behind a link, still open, answered only by the person it was sent to
        (:func:`is_invited`); anyone else is refused, and the refusal kept in the audit log."""
        require_proofing(self.authorities)
        vouch = self.invitation(token)
        found = self.db.get(VouchRequest, vouch.request_id) if vouch else None
        if vouch is None or found is None:
            raise NoSuchVouch("This link is not right. Check you copied all of it from the email.")
        if (
            found.cancelled_at
            or vouch.declined_at
            or vouch.withdrawn_at
            or vouch.accepted_at
            or vouch.refused_at
        ):
            raise InvitationUsed("This request to vouch has already been answered or was cancelled.")
        if vouch.expires_at <= self.clock():
            raise InvitationUsed("This link has expired. Ask the person to send you a new one.")
        if not is_invited(vouch, voucher):
            with unit_of_work(self.db):  # the refusal is kept
                refused = self.not_invited(vouch, voucher)
            raise refused
        return vouch, found

    def give_vouch(self, invitation: Vouch, voucher: Account, statement: Statement) -> list[Refusal]:
        """The voucher's declaration on an invitation :meth:`open_invitation` found, checked by every
        rule and kept whatever the outcome."""
        with unit_of_work(self.db):
            return self.answer(invitation, voucher, statement)

    def say_no(self, invitation: Vouch, voucher: Account) -> None:
        with unit_of_work(self.db):
            self.decline(invitation, voucher)

    def given(self, voucher_id: str) -> list[tuple[Vouch, VouchRequest | None]]:
        """The vouches this person gave, newest first, each with the request it answered."""
        query = select(Vouch).where(Vouch.voucher_id == voucher_id).order_by(Vouch.invited_at.desc())
        return [(v, self.db.get(VouchRequest, v.request_id)) for v in self.db.scalars(query)]

    def voucher_withdraws(self, voucher: Account, vouch_id: str) -> None:
        require_proofing(self.authorities)
        with unit_of_work(self.db):
            vouch = self.db.get(Vouch, vouch_id)
            if vouch is None or vouch.voucher_id != voucher.id:
                raise NoSuchVouch("There is no such vouch.")
            self.withdraw(vouch, voucher.id, "the voucher withdrew it")

    # The reviewer
    def to_review(self) -> list[tuple[Vouch, VouchRequest | None]]:
        require_proofing(self.authorities)
        return [(v, self.db.get(VouchRequest, v.request_id)) for v in self.flagged()]

    def waiting_review(self, vouch_id: str) -> Vouch:
        require_proofing(self.authorities)
        vouch = self.db.get(Vouch, vouch_id)
        if vouch is None or vouch not in self.flagged():
            raise NoSuchVouch("There is no such vouch waiting for review.")
        return vouch

    def decide(self, vouch_id: str, reviewer: Account, accept: bool, note: str) -> None:
        """Raises :class:`ConflictOfInterest` for a vouch the reviewer gave or received."""
        with unit_of_work(self.db):
            self.review(self.waiting_review(vouch_id), reviewer, accept, note)
