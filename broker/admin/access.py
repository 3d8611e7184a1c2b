"""Who may use the admin console: staff roles, signed in with a passkey."""

from __future__ import annotations

from fastapi import Request

from broker.deps import Db, ServicesDep
from broker.errors import PageError
from broker.store.models import Account
from broker.web.account import signed_in

ROLES = {
    "policy_author": "Policy author: drafts and submits MOU versions",
    "approver": "Approver: approves, rejects, suspends and ends MOU versions",
    "auditor": "Auditor: reads the release ledger and every MOU",
    "client_manager": "Client manager: registers relying services",
    "vouch_reviewer": "Vouch reviewer: decides vouches held for review",
}
PASSKEY = "hwk"  # RFC 8176: the session was proven with a key held in hardware


class NotStaff(PageError):
    status = 403
    code = "forbidden"
    title = "You cannot use the admin pages"


class PasskeyNeeded(PageError):
    status = 403
    code = "passkey_required"
    title = "Sign in with your passkey"


def staff(request: Request, db: Db, services: ServicesDep, *allowed: str) -> Account:
    """The signed-in administrator holding one of ``allowed`` roles (any staff role when none given)."""
    session, account = signed_in(request, db, services)
    held = set(account.roles or []) & set(ROLES)
    if not held or (allowed and not held & set(allowed)):
        needed = ", ".join(allowed) if allowed else "a staff role"
        raise NotStaff(f"This page needs {needed}. Ask an administrator if you need it.")
    if PASSKEY not in (session.amr or []):
        raise PasskeyNeeded(
            "The admin pages need a sign-in with a passkey. Sign out, then sign in with your passkey."
        )
    return account
