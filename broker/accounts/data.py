"""A person's own data: everything held about them, to download, and deleting their account.

Deleting an account is one unit of work: its sessions end and every service that took part in one is
told, its grants are revoked, the vouches it gave are withdrawn (the identities they supported are
settled again), and the account goes; only the audit record of what happened stays.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.accounts.sessions import SessionService
from broker.accounts.subject import subject
from broker.audit.log import record
from broker.config import Settings
from broker.policy import grants
from broker.policy.security_events import ACCOUNT_DELETED, queue_sharing_ended
from broker.store.models import (
    Account,
    AuditEvent,
    BrowserSession,
    Client,
    Consent,
    IdentityRecord,
    Passkey,
    ReleaseRecord,
    Vouch,
)
from broker.store.unit import unit_of_work

# Details of a person's own events that are about someone else: a vouch held because a document
# proved a namesake names that person's account, for the reviewer, never for the person held.
ABOUT_OTHERS = frozenset({"proven_accounts"})
VOUCHER_LEFT = "the voucher deleted their account"


class WithdrawsVouches(Protocol):
    """The vouching service, as deleting an account uses it (it settles the applicant again)."""

    def withdraw(self, vouch: Vouch, actor: str, reason: str) -> None: ...


def plain(row: Any, *fields: str) -> dict[str, Any]:
    """The named fields of a row as JSON values (times in ISO 8601)."""
    out = {}
    for name in fields:
        value = getattr(row, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def own(details: dict[str, Any]) -> dict[str, Any]:
    """An audit event's details without what is about someone else."""
    return {k: v for k, v in details.items() if k not in ABOUT_OTHERS}


class AccountData:
    def __init__(self, db: Session, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    def _rows(self, model: Any, **where: str) -> list[Any]:
        return list(self.db.scalars(select(model).filter_by(**where)))

    def download(self, account: Account) -> dict[str, Any]:
        """Everything the broker holds about the person (secrets and hashes excepted)."""
        rows = self._rows
        return {
            "account": plain(
                account,
                "email",
                "email_verified",
                "phone_number",
                "phone_number_verified",
                "mfa_method",
                "identity_level",
                "created_at",
            ),
            "passkeys": [
                plain(p, "name", "created_at", "last_used_at") for p in rows(Passkey, account_id=account.id)
            ],
            "sessions": [
                plain(s, "created_at", "auth_time", "level", "amr", "ended_at")
                for s in rows(BrowserSession, account_id=account.id)
            ],
            "identity_checks": [
                plain(
                    r,
                    "version",
                    "route",
                    "started_at",
                    "completed_at",
                    "names",
                    "birth_date",
                    "addresses",
                    "evidence",
                    "level",
                    "profile",
                    "recheck_by",
                    "revoked_at",
                    "revoked_reason",
                )
                for r in rows(IdentityRecord, account_id=account.id)
            ],
            "consents": [
                plain(
                    c,
                    "client_id",
                    "claims",
                    "declined",
                    "mou_version_id",
                    "granted_at",
                    "withdrawn_at",
                    "method",
                )
                for c in rows(Consent, account_id=account.id)
            ],
            "releases": [
                plain(r, "client_id", "claims", "endpoint", "mou_version_id", "released_at")
                for r in rows(ReleaseRecord, account_id=account.id)
            ],
            "vouches_given": [
                plain(
                    v,
                    "applicant_id",
                    "relationship",
                    "known_years",
                    "accepted_at",
                    "effective_at",
                    "withdrawn_at",
                )
                for v in rows(Vouch, voucher_id=account.id)
            ],
            "vouches_received": [
                plain(v, "invited_email", "invited_at", "accepted_at", "effective_at", "withdrawn_at")
                for v in rows(Vouch, applicant_id=account.id)
            ],
            "activity": [
                {**plain(e, "at", "action"), "details": own(e.details)}
                for e in self.db.scalars(
                    select(AuditEvent).where(AuditEvent.subject == account.id).order_by(AuditEvent.seq)
                )
            ],
        }

    def delete(self, account_id: str, vouches: WithdrawsVouches) -> None:
        """Delete the account: every service is told, and only what the audit log must keep stays."""
        now = self.clock()
        sessions = SessionService(self.db, self.settings)
        with unit_of_work(self.db):
            for live in self._rows(BrowserSession, account_id=account_id):
                if live.ended_at is None:
                    sessions.end(live.id, now)
                grants.queue_logout_notices(self.db, live.id, now)  # every service that took part is told
            grants.revoke_account_grants(self.db, account_id, now, grants.ACCOUNT_DELETED)
            # Each service shared with is asked to delete what it holds (where it listens for events).
            account = self.db.get(Account, account_id)
            for consent in self._rows(Consent, account_id=account_id):
                client = self.db.get(Client, consent.client_id)
                if account is not None and client is not None and consent.withdrawn_at is None:
                    sub = subject(client, account)
                    queue_sharing_ended(self.db, client, sub, ACCOUNT_DELETED, consent.mou_version_id, now)
            # The vouches they gave no longer stand: the identities they supported are settled again now.
            for given in self._rows(Vouch, voucher_id=account_id):
                vouches.withdraw(given, account_id, VOUCHER_LEFT)
            record(self.db, "account.deleted", now=now, actor=account_id, subject=account_id)
            self.db.flush()
            self.db.delete(self.db.get(Account, account_id))
