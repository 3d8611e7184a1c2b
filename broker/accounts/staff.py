"""Staff roles: who holds which, and granting and revoking them (the console's staff page and
``broker staff grant`` / ``broker staff revoke``).

Only an administrator grants or revokes in the console (the page checks the role; the command line is
the operator's). Every change is one unit of work with its audit event (``staff.role_granted``,
``staff.role_revoked``), and the last administrator's role is never revoked: nobody could give it back
without the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from broker.accounts.service import normalise_email
from broker.audit.log import record as audit
from broker.errors import BrokerError
from broker.store.models import Account
from broker.store.unit import unit_of_work

ADMINISTRATOR = "administrator"
# Every staff role, with what it lets its holder do (the console lists them in these words).
ROLES = {
    ADMINISTRATOR: "Administrator: grants and revokes staff roles",
    "policy_author": "Policy author: drafts and submits MOU versions",
    "approver": "Approver: approves, rejects, suspends and ends MOU versions",
    "auditor": "Auditor: reads the release ledger and every MOU",
    "client_manager": "Client manager: registers relying services",
    "vouch_reviewer": "Vouch reviewer: decides vouches held for review",
}


class StaffChangeRefused(BrokerError):
    """A grant or revocation that breaks a rule; ``field`` is the form field it is about. Nothing changed."""

    status: ClassVar[int] = 400

    def __init__(self, field: str, words: str) -> None:
        self.field = field
        super().__init__(words)


@dataclass(frozen=True)
class StaffMember:
    id: str
    email: str
    roles: list[str]


class StaffRoles:
    def __init__(self, db: Session, clock: Callable[[], datetime]) -> None:
        self.db, self.clock = db, clock

    def listing(self) -> list[StaffMember]:
        """Every account holding a staff role, by email address."""
        held = self.db.scalars(
            select(Account).where(cast(Account.roles, String) != "[]").order_by(Account.email)
        )
        members = [StaffMember(a.id, a.email, [r for r in ROLES if r in (a.roles or [])]) for a in held]
        return [m for m in members if m.roles]

    def grant(self, email: str, role: str, actor: str) -> Account:
        """Give the account with ``email`` the ``role``."""
        if role not in ROLES:
            raise StaffChangeRefused("role", "Choose a role")
        with unit_of_work(self.db):
            account = self.db.scalar(select(Account).where(Account.email == normalise_email(email)))
            if account is None:
                raise StaffChangeRefused("email", "There is no account with this email address")
            if role not in (account.roles or []):
                account.roles = sorted({*(account.roles or []), role})
                audit(
                    self.db,
                    "staff.role_granted",
                    now=self.clock(),
                    actor=actor,
                    subject=account.id,
                    role=role,
                )
            return account

    def revoke(self, email: str, role: str, actor: str) -> Account:
        """Take ``role`` from the account with ``email``; never the last administrator's."""
        if role not in ROLES:
            raise StaffChangeRefused("role", "Choose a role")
        with unit_of_work(self.db):
            account = self.db.scalar(
                select(Account).where(Account.email == normalise_email(email)).with_for_update()
            )
            if account is None or role not in (account.roles or []):
                raise StaffChangeRefused("email", "This account does not hold that role")
            if role == ADMINISTRATOR and self._administrators() == [account.id]:
                raise StaffChangeRefused(
                    "role", "This is the last administrator: grant the role to someone else first"
                )
            account.roles = sorted(set(account.roles or []) - {role})
            audit(self.db, "staff.role_revoked", now=self.clock(), actor=actor, subject=account.id, role=role)
            return account

    def _administrators(self) -> list[str]:
        # Locked (PostgreSQL) so two administrators revoking each other at once cannot both succeed.
        rows = self.db.scalars(select(Account).where(cast(Account.roles, String) != "[]").with_for_update())
        return [a.id for a in rows if ADMINISTRATOR in (a.roles or [])]
