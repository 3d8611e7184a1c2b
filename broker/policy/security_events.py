"""Telling relying services an identity they received has lost its level (beside
:mod:`broker.policy.grants`, which revokes the grants and queues the back-channel logouts).

Each service that received the identity (a live grant carrying an identity level) loses that grant
(its refresh tokens stop working), gets a back-channel logout for the session it was issued in, and,
where it registered a ``security_event_uri``, a Shared Signals / CAEP ``assurance-level-change``
Security Event Token (RFC 8417) pushed to it (RFC 8935). All go through the durable outbox that
back-channel logout uses, with its retries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from broker.accounts.subject import subject
from broker.policy import grants
from broker.store.models import Account, BackchannelLogout, Client
from vouching.levels import rank

ASSURANCE_LEVEL_CHANGE = "https://schemas.openid.net/secevent/caep/event-type/assurance-level-change"
SET_TYP = "secevent+jwt"


def assurance_change_claims(
    *, issuer: str, client_id: str, sub: str, previous: str, current: str, now: datetime, jti: str
) -> dict[str, Any]:
    """A CAEP assurance-level-change event for one subject (pairwise ``sub`` as the service knows it)."""
    iat = int(now.timestamp())
    return {
        "iss": issuer,
        "aud": client_id,
        "iat": iat,
        "jti": jti,
        "sub_id": {"format": "iss_sub", "iss": issuer, "sub": sub},
        "events": {
            ASSURANCE_LEVEL_CHANGE: {
                "namespace": "gpg45",
                "previous_level": previous,
                "current_level": current,
                "change_direction": "decrease",
                "initiating_entity": "system",
                "event_timestamp": iat,
            }
        },
    }


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
                    kind="assurance_level_change",
                    event={"previous_level": previous, "current_level": current},
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            queued += 1
    return queued
