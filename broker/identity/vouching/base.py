"""What every part of the vouching service shares: its wiring, the facts about one vouch and
request, and the one way a vouch is withdrawn."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.accounts.service import normalise_email
from broker.audit.log import record as audit
from broker.store.models import Account, Vouch, VouchRequest
from vouching.authorities import Authorities
from vouching.person import Address, ClaimedPerson, normalise_building, normalise_postcode
from vouching.rules import VouchingPolicy
from vouching.text import N_
from vouching.vouches import VouchState

ACKNOWLEDGEMENT = N_(
    "I confirm that what I have said is true. I understand that vouching for someone lets them use "
    "online services as that person, that giving false information to prove someone's identity is an "
    "offence (Fraud Act 2006, section 2), and that if my vouch is found to be false it will be withdrawn, "
    "the identity it supported will lose its level, and my own account may be suspended."
)


def is_invited(vouch: Vouch, account: Account) -> bool:
    """An invitation is answered only from the account of the email address it was sent to: a link
    passed on (or intercepted) is no vouch from the person the applicant named."""
    return normalise_email(account.email) == normalise_email(vouch.invited_email)


def requested_person(request: VouchRequest) -> ClaimedPerson:
    return ClaimedPerson(request.given_names, request.family_name, request.birth_date)


def address_key(address: Address) -> str:
    """One home: its building and postcode, each as one compares them (so two houses in a street are
    two addresses, and "10a" and "10 A" one)."""
    postcode = normalise_postcode(address.postcode) or address.postcode.strip().upper()
    return f"{normalise_building(address.building)}|{postcode}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def state(vouch: Vouch) -> VouchState:
    return VouchState(
        vouch.accepted_at, vouch.effective_at, vouch.withdrawn_at or vouch.declined_at, bool(vouch.refused_at)
    )


@dataclass
class Invitation:
    vouch: Vouch
    token: str


class VouchingBase:
    """The session, clock, authorities, policy and issuer every vouching operation works with."""

    def __init__(
        self,
        db: Session,
        clock: Callable[[], datetime],
        authorities: Authorities,
        policy: VouchingPolicy,
        issuer: str,
    ) -> None:
        self.db = db
        self.clock = clock
        self.authorities = authorities
        self.policy = policy
        self.issuer = issuer

    def vouches(self, request: VouchRequest) -> list[Vouch]:
        return list(
            self.db.scalars(select(Vouch).filter_by(request_id=request.id).order_by(Vouch.invited_at))
        )

    def _withdrawn(self, vouch: Vouch, actor: str, reason: str) -> bool:
        if vouch.withdrawn_at is not None:
            return False
        now = self.clock()
        vouch.withdrawn_at, vouch.withdrawn_reason = now, reason
        audit(
            self.db,
            "vouch.withdrawn",
            now=now,
            actor=actor,
            subject=vouch.applicant_id,
            vouch=vouch.id,
            reason=reason,
        )
        return True
