"""Changes on the Security page: the email address, phone number, authenticator app, backup method,
passkeys and password; and signing out everywhere.

A change takes effect only with proof that the new thing is the person's (a code sent to it, or one
from the new app). Then it is recorded, the owner is told, and the session gets a new secret (a change
of privilege: a cookie copied or fixed before it stops working). Each operation is one unit of work;
a wrong code is counted, and the count kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from broker.accounts.changes import AccountChanges, change_email, remove_backup
from broker.accounts.passkeys import Passkeys, RelyingPartyIdentity
from broker.accounts.service import AccountService, close_transaction
from broker.accounts.sessions import SessionService
from broker.accounts.throttle import PasswordGuess, Throttle
from broker.accounts.visit import Visit
from broker.audit.log import record
from broker.notify.outbox import Outbox
from broker.store.models import Account, AccountChange, BrowserSession
from broker.store.unit import unit_of_work


def end_everywhere(visit: Visit, account_id: str, action: str, reason: str) -> None:
    """Every session of the account ends, its services are told and its refresh tokens stop working,
    recorded as ``action`` (inside the caller's unit of work; wake the sender after it commits)."""
    now = visit.clock()
    visit.endings.end_everywhere(visit.db, visit.settings, account_id, now, reason)
    record(visit.db, action, now=now, actor=account_id, subject=account_id, client_address=visit.address)


class Security:
    """The signed-in person's changes, in the session they are signed in with."""

    def __init__(self, visit: Visit, session: BrowserSession, account: Account) -> None:
        self.visit = visit
        self.db = visit.db
        self.session = session
        self.account = account

    def changes(self) -> AccountChanges:
        return AccountChanges(self.db, self.visit.clock(), self.visit.address)

    def _record(self, action: str, **details: Any) -> None:
        record(
            self.db,
            action,
            now=self.visit.clock(),
            actor=self.account.id,
            subject=self.account.id,
            client_address=self.visit.address,
            **details,
        )

    def _done(self, action: str, **details: Any) -> str:
        """Record the change and give the session a new secret (returned, for its cookie)."""
        self._record(action, **details)
        return SessionService(self.db, self.visit.settings).rotate(self.session)

    def _tell_owner(self) -> None:
        Outbox(self.db).send_email(self.account.email, "sign_in_method_changed", {}, self.visit.clock())

    def pending(self, kind: str) -> AccountChange | None:
        return self.changes().pending(self.session, kind)

    # Email address

    def start_email_change(self, address: str) -> None:
        """A code to the new address; an address that has an account is never said on screen: its
        owner is told by email instead, and no code can work."""
        with unit_of_work(self.db):
            changes = self.changes()
            change = changes.start(self.session, "email", new_email=address)
            if AccountService(self.db, self.visit.passwords).by_email(address) is not None:
                changes.send_notice(change, address, "email_change_account_exists")
            else:
                changes.send_code(change, "email", address, "change_email_code")

    def confirm_email(self, change: AccountChange, code: str) -> str | None:
        """The code sent to the new address: right, the address changes (the old one is told) and the
        session's new secret returns; wrong, None."""
        assert change.new_email
        with unit_of_work(self.db):
            changes = self.changes()
            if not (
                changes.check_code(change, code)
                and AccountService(self.db, self.visit.passwords).by_email(change.new_email) is None
            ):
                return None
            change_email(self.db, self.account, change.new_email, self.visit.clock())
            changes.done(change)
            return self._done("email.changed")

    # Phone numbers and authenticator apps (main or backup)

    def start_phone_change(self, kind: str, number: str) -> None:
        with unit_of_work(self.db):
            changes = self.changes()
            change = changes.start(self.session, kind, new_phone=number)
            changes.send_code(change, "sms", number, "sms_code")

    def app_change(self, kind: str, new_secret: Callable[[], str]) -> AccountChange:
        """The pending app change of this kind, or a new one with a new secret (kept while the page is
        reloaded)."""
        with unit_of_work(self.db):
            changes = self.changes()
            return changes.pending(self.session, kind) or changes.start(
                self.session, kind, new_totp_secret=new_secret()
            )

    def confirm_phone(
        self,
        change: AccountChange,
        code: str,
        apply: Callable[[Account, AccountChange, int | None], None],
        action: str,
        method: str,
    ) -> str | None:
        """The code sent to the new phone: right, ``apply`` makes the change; the new secret returns."""
        with unit_of_work(self.db):
            changes = self.changes()
            if not changes.check_code(change, code):
                return None
            return self._confirmed(changes, change, None, apply, action, method)

    def confirm_app(
        self,
        change: AccountChange,
        code: str,
        apply: Callable[[Account, AccountChange, int | None], None],
        action: str,
        method: str,
    ) -> str | None:
        """A code from the new app: right, ``apply`` makes the change; the new secret returns."""
        with unit_of_work(self.db):
            changes = self.changes()
            step = changes.check_app(change, code)
            if step is None:
                return None
            return self._confirmed(changes, change, step, apply, action, method)

    def _confirmed(
        self,
        changes: AccountChanges,
        change: AccountChange,
        step: int | None,
        apply: Callable[[Account, AccountChange, int | None], None],
        action: str,
        method: str,
    ) -> str:
        apply(self.account, change, step)
        changes.done(change)
        self._tell_owner()
        return self._done(action, method=method)

    def remove_backup(self) -> str | None:
        """No backup method any more (None when there was none); the new secret returns."""
        method = self.account.backup_method
        if not method:
            return None
        with unit_of_work(self.db):
            remove_backup(self.account)
            self._tell_owner()
            return self._done("factor.backup_removed", method=method)

    # Passkeys

    def passkeys(self) -> Passkeys:
        settings = self.visit.settings
        return Passkeys(self.db, RelyingPartyIdentity.for_issuer(settings.issuer, settings.service_name))

    def passkey_options(self) -> dict[str, Any]:
        with unit_of_work(self.db):
            options, self.session.webauthn_challenge = self.passkeys().registration_options(self.account)
        return options

    def add_passkey(self, credential: dict[str, Any], name: str) -> str | None:
        """The passkey registered (None when no challenge was given out: start again); the new secret."""
        challenge, self.session.webauthn_challenge = self.session.webauthn_challenge, None
        if not challenge:
            return None
        with unit_of_work(self.db):
            passkey = self.passkeys().register(self.account, credential, challenge, name, self.visit.clock())
            return self._done("factor.set", method="passkey", passkey=passkey.name)

    def rename_passkey(self, credential_id: str, name: str) -> bool:
        """False when the passkey is not this account's."""
        passkey = next(
            (p for p in self.passkeys().of(self.account.id) if p.credential_id == credential_id), None
        )
        if passkey is None:
            return False
        with unit_of_work(self.db):
            passkey.name = name
        return True

    def remove_passkey(self, credential_id: str) -> str | None:
        """The new secret, or None when the passkey is not this account's."""
        with unit_of_work(self.db):
            if not self.passkeys().remove(self.account.id, credential_id):
                return None
            return self._done("factor.removed", method="passkey")

    # The password, and every session

    def current_password_matches(self, current: str) -> bool:
        """A guess at the current password, throttled as at sign-in (the same count): from a stolen
        session it is no easier to guess. The hash runs with no transaction open."""
        now = self.visit.clock()
        guess = PasswordGuess(Throttle(self.db), self.account.email, self.visit.address, now)
        try:
            guess.count()
        finally:
            self.db.commit()  # counted before the slow check: concurrent guesses each see the others
        matches = AccountService(self.db, self.visit.passwords).password_matches(self.account, current)
        with unit_of_work(self.db):
            if matches:
                guess.right()
                return True
            self._record("password.change_failed")
            for limit in guess.wrong():
                record(
                    self.db,
                    "lockout",
                    now=now,
                    actor="system",
                    subject=self.account.id,
                    client_address=self.visit.address,
                    limit=limit,
                )
        return False

    def change_password(self, new: str) -> None:
        """The new password; the owner is told, and every session and token of the account ends."""
        close_transaction(self.db)
        with unit_of_work(self.db):
            AccountService(self.db, self.visit.passwords).set_password(self.account, new)
            Outbox(self.db).send_email(self.account.email, "password_changed", {}, self.visit.clock())
            end_everywhere(self.visit, self.account.id, "password.changed", "password changed")
        self.visit.endings.wake()

    def sign_out_everywhere(
        self, action: str = "sessions.ended_all", reason: str = "signed out everywhere"
    ) -> None:
        with unit_of_work(self.db):
            end_everywhere(self.visit, self.account.id, action, reason)
        self.visit.endings.wake()
