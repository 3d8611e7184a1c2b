"""Consent: a person agrees to share with a service (and may narrow it, declining optional attributes),
refuses, or withdraws it later. Each operation is one unit of work with its audit record.

What the person is asked about is :func:`broker.policy.claims.requested`, the computation the
authorizer checks the request with. How an agreement changes when given again is :func:`agreed_now`,
a pure rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.accounts.subject import subject
from broker.audit.log import record
from broker.errors import PageNotFound
from broker.language import N_
from broker.policy import grants
from broker.policy.claims import ClaimsRequestInvalid, Requested, requested
from broker.policy.lawful_basis import Basis, basis_of
from broker.policy.mou import Terms
from broker.policy.release import Agreement
from broker.policy.security_events import CONSENT_WITHDRAWN, queue_sharing_ended, sharing_notices
from broker.policy.service import agreement_for, terms_of
from broker.store.models import (
    Account,
    BackchannelLogout,
    Client,
    Consent,
    Interaction,
    Mou,
    MouVersion,
    ReleaseRecord,
)
from broker.store.unit import unit_of_work

METHOD = "consent page"


@dataclass(frozen=True)
class Agreed:
    """What a person has agreed to share with one service, as stored on their consent."""

    scopes: tuple[str, ...] = ()
    claims: tuple[str, ...] = ()
    declined: tuple[str, ...] = ()


def agreed_now(
    before: Agreed | None, afresh: bool, scopes: Iterable[str], asked: Iterable[str], declined: Iterable[str]
) -> Agreed:
    """The agreement after the person agrees to ``asked`` minus ``declined``.

    Consent given again adds to what was agreed: new scopes and claims join, a claim declined now is
    taken out (narrowing), and a claim agreed now is no longer declined. ``afresh`` (consent withdrawn,
    or given under another agreement version) starts from nothing."""
    base = Agreed() if before is None or afresh else before
    asked_now, declined_now = set(asked), set(declined)
    return Agreed(
        scopes=tuple(sorted(set(base.scopes) | set(scopes))),
        claims=tuple(sorted((set(base.claims) | asked_now) - declined_now)),
        declined=tuple(sorted((set(base.declined) - asked_now) | declined_now)),
    )


def optional_claims(asked: Iterable[str], terms: Terms | None) -> frozenset[str]:
    """The claims asked about that the agreement marks optional: the person may decline them."""
    if terms is None:
        return frozenset()
    return frozenset(c for c in asked if (t := terms.attribute(c)) is not None and not t.required)


def asked_by(interaction: Interaction) -> Requested:
    """What the authorization request waiting on the person asks for. Its claims parameter was checked
    when the request came in; one that no longer reads asks for its scopes' claims only."""
    params: dict[str, list[str]] = interaction.params
    scopes = (params.get("scope") or [""])[0].split()  # first values, as the authorizer read them
    try:
        return requested(scopes, (params.get("claims") or [""])[0])
    except ClaimsRequestInvalid:
        return requested(scopes, None)


@dataclass(frozen=True)
class Ask:
    """One attribute on the consent page: what it is, how long the service keeps it, and whether the
    person may decline it."""

    claim: str
    days: int | None
    required: bool


def asks(asked: Iterable[str], terms: Terms | None) -> list[Ask]:
    """The attributes to show, in a stable order (without an agreement, every one is required)."""
    out = []
    for claim in sorted(asked):
        term = terms.attribute(claim) if terms else None
        out.append(Ask(claim, term.retention_days if term else None, term.required if term else True))
    return out


class ConsentService:
    def __init__(self, db: Session, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    def agreement(self, client_id: str) -> Agreement | None:
        return agreement_for(self.db, client_id, today=self.clock().date())

    def refuse(self, interaction: Interaction, account_id: str) -> None:
        """The person did not agree: the request is finished (the service hears ``access_denied``)."""
        with unit_of_work(self.db):
            interaction.account_id, interaction.completed_at = account_id, self.clock()

    def give(self, interaction: Interaction, account_id: str, chosen: Iterable[str]) -> Consent:
        """The person agreed to what ``interaction`` asks, sharing only the optional attributes in
        ``chosen``; the authorization request may now go on."""
        assert interaction.client_id is not None
        now = self.clock()
        asked = asked_by(interaction)
        agreement = self.agreement(interaction.client_id)
        terms = agreement.terms if agreement else None
        declined = optional_claims(asked.asked_about, terms) - set(chosen)
        version_id = agreement.version_id if agreement else None
        with unit_of_work(self.db):
            row = self.find(account_id, interaction.client_id)
            if row is None:
                row = Consent(account_id=account_id, client_id=interaction.client_id, scopes=[], claims=[])
                self.db.add(row)
            afresh = row.withdrawn_at is not None or row.mou_version_id != version_id
            before = Agreed(tuple(row.scopes), tuple(row.claims), tuple(row.declined or ()))
            agreed = agreed_now(before, afresh, asked.scopes, asked.asked_about, declined)
            row.scopes, row.claims, row.declined = (
                list(agreed.scopes),
                list(agreed.claims),
                list(agreed.declined),
            )
            row.withdrawn_at, row.mou_version_id, row.method, row.granted_at = None, version_id, METHOD, now
            record(
                self.db,
                "consent.given",
                now=now,
                actor=account_id,
                subject=account_id,
                client_id=interaction.client_id,
                claims=row.claims,
                declined=row.declined,
            )
            interaction.account_id, interaction.consent_given_at = account_id, now
        return row

    def withdraw(self, account: Account, client_id: str) -> None:
        """Consent withdrawn: the service's grants are revoked (its refresh tokens stop working), it
        gets a back-channel logout for every session it took part in and, where it listens for security
        events, a ``sharing-ended`` event asking it to delete what it holds under the agreement."""
        consent, client = self.held(account.id, client_id)
        now = self.clock()
        sub = subject(client, account)
        with unit_of_work(self.db):
            consent.withdrawn_at = now
            grants.revoke_account_grants(
                self.db, account.id, now, grants.CONSENT_WITHDRAWN, client_id=client_id
            )
            grants.queue_client_logout(self.db, client, sub, now)
            told = queue_sharing_ended(self.db, client, sub, CONSENT_WITHDRAWN, consent.mou_version_id, now)
            record(
                self.db,
                "consent.withdrawn",
                now=now,
                actor=account.id,
                subject=account.id,
                client_id=client_id,
                service_told=told,
            )

    # Reading

    def find(self, account_id: str, client_id: str) -> Consent | None:
        return self.db.scalars(select(Consent).filter_by(account_id=account_id, client_id=client_id)).first()

    def held(self, account_id: str, client_id: str) -> tuple[Consent, Client]:
        """The person's consent for a service, and the service; :class:`PageNotFound` when there is none."""
        consent = self.find(account_id, client_id)
        client = self.db.get(Client, client_id)
        if consent is None or client is None:
            raise PageNotFound(N_("You have not shared anything with that service."))
        return consent, client

    def shared(self, account_id: str, releases: int = 10) -> list[Shared]:
        """Every service the person agreed to share with, the latest consent first, each with what it
        last received (from the release ledger)."""
        out = []
        consents = self.db.scalars(
            select(Consent).filter_by(account_id=account_id).order_by(Consent.granted_at.desc())
        )
        for consent in consents:
            latest = self.db.scalars(
                select(ReleaseRecord)
                .filter_by(account_id=account_id, client_id=consent.client_id)
                .order_by(ReleaseRecord.released_at.desc())
                .limit(releases)
            )
            agreement = agreement_for(self.db, consent.client_id, today=self.clock().date())
            client = self.db.get(Client, consent.client_id)
            account = self.db.get(Account, account_id)
            notices = (
                sharing_notices(self.db, client.client_id, subject(client, account))
                if client and account
                else []
            )
            out.append(
                Shared(
                    consent,
                    client,
                    list(latest),
                    agreement.terms if agreement else None,
                    notices[0] if notices else None,
                )
            )
        return out

    def receipt(self, account: Account, client_id: str, issuer: str) -> dict[str, Any]:
        consent, client = self.held(account.id, client_id)
        return receipt(self.db, consent, client, account, issuer)


@dataclass(frozen=True)
class Shared:
    consent: Consent
    client: Client | None
    releases: list[ReleaseRecord]
    terms: Terms | None = None  # the agreement governing the service today, if any
    # The newest request to the service to delete what it holds (its ``delivered_at`` is when the service
    # acknowledged it); None when none was sent (the service may have no security event URI).
    deletion: BackchannelLogout | None = None

    @property
    def told_automatically(self) -> bool:
        """Whether the service listens for security events, so that it can be told when sharing ends."""
        return bool(self.client and self.client.security_event_uri)


def retention(terms: Terms | None, claims: list[str]) -> str:
    """The longest time the service keeps any of ``claims``, for a consent receipt."""
    if terms is None:
        return ""
    days = [t.retention_days for t in terms.attributes if t.claim in claims]
    return f"kept for at most {max(days)} days" if days else ""


def consent_type(basis: Basis | None) -> str:
    """The Kantara receipt's ``consentType``: the controller's authority to use the information.
    EXPLICIT only where the agreement rests on consent; otherwise the basis it rests on (or that it is
    not consent, when its words name no single basis: ``lawful_basis.basis_of``)."""
    if basis is None:
        return "NOT CONSENT"
    return "EXPLICIT" if basis.consent else basis.name.upper()


def legal_basis(terms: Terms | None) -> dict[str, Any]:
    """The lawful basis as an ISO/IEC TS 27560 record states it: the law, the article where the words
    name one, and the words of the agreement as written."""
    basis = basis_of(terms.lawful_basis) if terms else None
    return {
        "law": "UK GDPR",
        "article": f"Article {basis.article}" if basis else None,
        "name": basis.name if basis else None,
        "isConsent": bool(basis and basis.consent),
        "description": terms.lawful_basis if terms else "",
    }


def receipt(db: Session, consent: Consent, client: Client, account: Account, issuer: str) -> dict[str, Any]:
    """The agreement to share as a receipt: the Kantara Consent Receipt 1.1 fields (kept for services
    that read them), and the ISO/IEC TS 27560 consent record fields that apply (``consentRecord``:
    the record, its state, and each processing with its purpose, lawful basis, information, controller,
    recipient and retention). Its consent type is EXPLICIT only where the basis is consent."""
    version = db.get(MouVersion, consent.mou_version_id) if consent.mou_version_id else None
    mou = db.get(Mou, version.mou_id) if version else None
    terms = terms_of(version) if version else None
    basis = basis_of(terms.lawful_basis) if terms else None
    controller = {
        "piiController": terms.organisation if terms else client.name,
        "contact": terms.contacts if terms else "",
    }
    agreement = {"reference": mou.reference if mou else None, "version": version.number if version else None}
    return {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "GB",
        "consentTimestamp": int(consent.granted_at.timestamp()),
        "collectionMethod": consent.method,
        "consentReceiptID": consent.id,
        "language": "en",
        "piiPrincipalId": subject(client, account),
        "piiControllers": [controller],
        "policyUrl": f"{issuer}/services/{client.client_id}/agreement",
        "services": [
            {
                "service": client.name,
                "purposes": [
                    {
                        "purpose": terms.purpose if terms else "",
                        "purposeCategory": ["Service provision"],
                        "consentType": consent_type(basis),
                        "piiCategory": consent.claims,
                        "primaryPurpose": True,
                        "termination": retention(terms, consent.claims),
                        "thirdPartyDisclosure": bool(terms and terms.onward_sharing),
                    }
                ],
            }
        ],
        "sensitive": False,
        "agreement": agreement,
        "declined": consent.declined,
        "withdrawn": int(consent.withdrawn_at.timestamp()) if consent.withdrawn_at else None,
        "consentRecord": _consent_record(consent, client, account, terms, controller, agreement, issuer),
    }


def _consent_record(
    consent: Consent,
    client: Client,
    account: Account,
    terms: Terms | None,
    controller: dict[str, str],
    agreement: dict[str, Any],
    issuer: str,
) -> dict[str, Any]:
    """The ISO/IEC TS 27560:2023 consent record fields that apply to an agreement to share."""
    days = [t.retention_days for t in terms.attributes if t.claim in consent.claims] if terms else []
    return {
        "schemaVersion": "ISO/IEC TS 27560:2023",
        "recordId": consent.id,
        "piiPrincipalId": subject(client, account),
        "state": "withdrawn" if consent.withdrawn_at else "given",
        "stateChangedAt": (consent.withdrawn_at or consent.granted_at).isoformat(),
        "collectionMethod": consent.method,
        "notice": f"{issuer}/services/{client.client_id}/agreement",
        "processing": [
            {
                "purpose": terms.purpose if terms else "",
                "legalBasis": legal_basis(terms),
                "piiInformation": consent.claims,
                "piiDeclined": consent.declined,
                "piiControllers": [controller],
                "recipients": [client.name],
                "onwardSharing": bool(terms and terms.onward_sharing),
                "retentionPeriod": f"P{max(days)}D" if days else None,
                "agreement": agreement,
            }
        ],
    }
