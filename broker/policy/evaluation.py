"""Evaluate: for one person (by email address) and one service, exactly what would be released now and
why, under which rule of which version. It asks the one release decision (``broker.policy.release
.decide``, through ``service.release_for``) with the person's identity level and consent as stored,
for every attribute the governing version lists; it changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.accounts.service import normalise_email
from broker.policy.agreements import AgreementRefused
from broker.policy.claims import AGREEABLE_CLAIMS, shareable
from broker.policy.mou import AttributeTerm, effective_status
from broker.policy.service import agreement_for, consent_facts, governing, release_for, terms_of
from broker.store.bounds import column_length, text_problem
from broker.store.models import Account, Client, Mou, MouVersion


@dataclass(frozen=True)
class Evaluation:
    account: Account
    client: Client
    mou: Mou | None
    row: MouVersion | None  # the version governing the service now
    status: str
    consent: MouVersion | None  # the version the person's agreement counts under, if it counts
    agreed: list[str]
    released: list[tuple[str, AttributeTerm | None]]  # each claim with the rule that lets it go
    refused: list[tuple[str, str]]


class Evaluate:
    def __init__(self, db: Session, clock: Callable[[], datetime]) -> None:
        self.db, self.clock = db, clock

    def services(self) -> list[Client]:
        return list(self.db.scalars(select(Client).order_by(Client.name)))

    def run(self, email: str, client_id: str) -> Evaluation:
        # Read from the address bar, not a checked form: a NUL byte or an overlong value is refused
        # here (PostgreSQL would fail on it), as the form guard refuses it in a posted form.
        if text_problem(email, column_length(Account.email)) or text_problem(
            client_id, column_length(Client.client_id)
        ):
            raise AgreementRefused({"email": "Enter the email address of an account"})
        errors = {}
        account = self.db.scalar(select(Account).where(Account.email == normalise_email(email)))
        if account is None:
            errors["email"] = "There is no account with this email address"
        client = self.db.get(Client, client_id) if client_id else None
        if client is None:
            errors["service"] = "Choose a service"
        if errors or account is None or client is None:
            raise AgreementRefused(errors)
        now = self.clock()
        row = governing(self.db, client.client_id, today=now.date())
        terms = terms_of(row) if row else None
        asked = frozenset(a.claim for a in terms.attributes) if terms else AGREEABLE_CLAIMS
        result, agreement = release_for(
            self.db,
            account_id=account.id,
            client_id=client.client_id,
            requested=asked,
            identity_level=account.identity_level,
            now=now,
        )
        facts = consent_facts(
            self.db, account.id, client.client_id, agreement_for(self.db, client.client_id, today=now.date())
        )
        counted = self.db.get(MouVersion, facts.version_id) if facts and facts.version_id else None
        rules = agreement.terms if agreement else None
        return Evaluation(
            account=account,
            client=client,
            mou=self.db.scalar(select(Mou).filter_by(client_id=client.client_id)),
            row=row,
            status=effective_status(row.status, terms, now.date()) if row and terms else "none",
            consent=counted,
            agreed=sorted(shareable(set(facts.claims))) if facts else [],
            released=[
                (c, rules.attribute(c) if rules else None) for c in sorted(shareable(set(result.released)))
            ],
            refused=sorted(result.refused.items()),
        )
