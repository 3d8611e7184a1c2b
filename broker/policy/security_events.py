"""Telling relying services an identity they received has lost its level (beside
:mod:`broker.policy.grants`, which revokes the grants and queues the back-channel logouts).

Each service that received the identity (a live grant carrying an identity level) loses that grant
(its refresh tokens stop working), gets a back-channel logout for the session it was issued in, and,
where it registered a ``security_event_uri``, a Shared Signals / CAEP ``assurance-level-change``
Security Event Token (RFC 8417) pushed to it (RFC 8935). All go through the durable outbox that
back-channel logout uses, with its retries.

Sharing that ends (a person withdraws their agreement, or staff end the data sharing agreement) is told
the same way: a ``sharing-ended`` event (:data:`SHARING_ENDED`, a broker event type documented in
docs/integrating.md) asks the service to delete what it holds about the person under that agreement.
A service with no ``security_event_uri`` cannot be told automatically; the person's page says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.accounts.subject import subject
from broker.policy import grants
from broker.store.models import Account, BackchannelLogout, Client, Consent, Mou, MouVersion, ReleaseRecord
from vouching.levels import rank

ASSURANCE_LEVEL_CHANGE = "https://schemas.openid.net/secevent/caep/event-type/assurance-level-change"
# Not an OpenID event type: no CAEP or RISC event asks a receiver to delete what it holds, so the
# broker names its own (RFC 8417 §2.2: any URI the parties agree on), documented in docs/integrating.md.
SHARING_ENDED = "urn:identity-broker:secevent:sharing-ended"
SET_TYP = "secevent+jwt"
# The outbox kinds of pushed security events (``BackchannelLogout.kind``).
ASSURANCE_KIND = "assurance_level_change"
SHARING_ENDED_KIND = "sharing_ended"
# Why sharing ended, as the event's ``reason`` says it.
CONSENT_WITHDRAWN = "consent_withdrawn"
AGREEMENT_ENDED = "agreement_ended"
ACCOUNT_DELETED = "account_deleted"


def _event_token(
    *, issuer: str, client_id: str, sub: str, now: datetime, jti: str, event_type: str, event: dict[str, Any]
) -> dict[str, Any]:
    """A Security Event Token's claims (RFC 8417) for one subject (pairwise ``sub`` as the service knows
    it), carrying one event of ``event_type`` stamped with the token's time."""
    iat = int(now.timestamp())
    return {
        "iss": issuer,
        "aud": client_id,
        "iat": iat,
        "jti": jti,
        "sub_id": {"format": "iss_sub", "iss": issuer, "sub": sub},
        "events": {event_type: {**event, "event_timestamp": iat}},
    }


def assurance_change_claims(
    *, issuer: str, client_id: str, sub: str, previous: str, current: str, now: datetime, jti: str
) -> dict[str, Any]:
    """A CAEP assurance-level-change event for one subject."""
    event = {
        "namespace": "gpg45",
        "previous_level": previous,
        "current_level": current,
        "change_direction": "decrease",
        "initiating_entity": "system",
    }
    return _event_token(
        issuer=issuer,
        client_id=client_id,
        sub=sub,
        now=now,
        jti=jti,
        event_type=ASSURANCE_LEVEL_CHANGE,
        event=event,
    )


def notify_identity_dropped(db: Session, account_id: str, previous: str, current: str, now: datetime) -> int:
    """Queue notices to every service holding a live grant with an identity level above ``current``."""
    account = db.get(Account, account_id)
    if account is None:
        return 0
    queued = 0
    told: set[tuple[str, str]] = set()
    for grant in grants.live_identity_grants(db, account_id):
        assert grant.identity_vot is not None
        if rank(grant.identity_vot) <= rank(current):
            continue
        grants.revoke_grant(db, grant.id, now, grants.IDENTITY_DROPPED)
        client = db.get(Client, grant.client_id)
        if client is None or (client.client_id, grant.session_id or "") in told:
            continue
        told.add((client.client_id, grant.session_id or ""))
        sub = subject(client, account)
        if client.backchannel_logout_uri and grant.session_id:
            grants.queue_logout(db, client.client_id, grant.session_id, sub, now)
            queued += 1
        if client.security_event_uri:
            db.add(
                BackchannelLogout(
                    client_id=client.client_id,
                    session_id=grant.session_id or "",
                    sub=sub,
                    kind=ASSURANCE_KIND,
                    event={"previous_level": previous, "current_level": current},
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            queued += 1
    return queued


def sharing_ended_claims(
    *, issuer: str, client_id: str, sub: str, event: dict[str, Any], now: datetime, jti: str
) -> dict[str, Any]:
    """A ``sharing-ended`` event for one subject: the service is asked to delete what it holds about
    them under the agreement named (its reference and version number)."""
    body = {
        "reason": event.get("reason", ""),
        "agreement": {"reference": event.get("reference"), "version": event.get("version")},
        "requested_action": "delete",
        "initiating_entity": "admin" if event.get("reason") == AGREEMENT_ENDED else "user",
    }
    return _event_token(
        issuer=issuer, client_id=client_id, sub=sub, now=now, jti=jti, event_type=SHARING_ENDED, event=body
    )


def event_claims(
    kind: str, *, issuer: str, client_id: str, sub: str, event: dict[str, Any], now: datetime, jti: str
) -> dict[str, Any]:
    """The claims of the security event token an outbox row of ``kind`` stands for."""
    if kind == SHARING_ENDED_KIND:
        return sharing_ended_claims(
            issuer=issuer, client_id=client_id, sub=sub, event=event, now=now, jti=jti
        )
    return assurance_change_claims(
        issuer=issuer,
        client_id=client_id,
        sub=sub,
        previous=event.get("previous_level", ""),
        current=event.get("current_level", ""),
        now=now,
        jti=jti,
    )


def version_named(db: Session, version_id: str | None) -> tuple[str | None, int | None]:
    """The reference and number of an agreement version, as a service knows it."""
    version = db.get(MouVersion, version_id) if version_id else None
    mou = db.get(Mou, version.mou_id) if version else None
    return (mou.reference if mou else None), (version.number if version else None)


def queue_sharing_ended(
    db: Session, client: Client, sub: str, reason: str, version_id: str | None, now: datetime
) -> bool:
    """Queue a ``sharing-ended`` event to ``client`` for ``sub``; False when the service registered no
    security event URI (it cannot be told automatically)."""
    if not client.security_event_uri:
        return False
    reference, number = version_named(db, version_id)
    db.add(
        BackchannelLogout(
            client_id=client.client_id,
            session_id="",
            sub=sub,
            kind=SHARING_ENDED_KIND,
            event={"reason": reason, "reference": reference, "version": number},
            created_at=now,
            next_attempt_at=now,
        )
    )
    return True


def notify_agreement_ended(db: Session, mou: Mou, version: MouVersion, now: datetime) -> int:
    """Ask the service to delete what it holds about every person who shared with it (a consent not
    withdrawn, or a release under this agreement), when the agreement is ended; the number queued."""
    client = db.get(Client, mou.client_id)
    if client is None or not client.security_event_uri:
        return 0
    versions = select(MouVersion.id).where(MouVersion.mou_id == mou.id)
    released = select(ReleaseRecord.account_id).where(
        ReleaseRecord.client_id == client.client_id, ReleaseRecord.mou_version_id.in_(versions)
    )
    agreed = select(Consent.account_id).where(
        Consent.client_id == client.client_id, Consent.withdrawn_at.is_(None)
    )
    queued = 0
    for account_id in sorted(set(db.scalars(released)) | set(db.scalars(agreed))):
        account = db.get(Account, account_id)
        if account is not None:
            queued += queue_sharing_ended(
                db, client, subject(client, account), AGREEMENT_ENDED, version.id, now
            )
    return queued


def sharing_notices(db: Session, client_id: str, sub: str) -> list[BackchannelLogout]:
    """The ``sharing-ended`` events queued to a service about one subject, newest first."""
    return list(
        db.scalars(
            select(BackchannelLogout)
            .where(
                BackchannelLogout.client_id == client_id,
                BackchannelLogout.sub == sub,
                BackchannelLogout.kind == SHARING_ENDED_KIND,
            )
            .order_by(BackchannelLogout.created_at.desc())
        )
    )
