"""Signing in: the password (throttled, hashed with no transaction open), the second factor (a code
sent by text or email, the authenticator app, the backup method, a passkey), and starting the session
(ending any earlier one in the browser, whose services are told), each recorded.

Each operation is one unit of work. The one exception is the password: its guess is counted and
committed before the slow hash, so that concurrent guesses see each other, and the hash then runs with
no transaction open (see :mod:`broker.accounts.service`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broker.accounts import factors
from broker.accounts.changes import code_matches, new_code
from broker.accounts.codes import MINUTES, Codes, Purpose, backup
from broker.accounts.interactions import CODE_TTL, InteractionService
from broker.accounts.passkeys import AMR as PASSKEY_AMR
from broker.accounts.passkeys import PasskeyFailed, Passkeys, RelyingPartyIdentity
from broker.accounts.service import AccountService, close_transaction, normalise_email
from broker.accounts.sessions import SessionService
from broker.accounts.throttle import PasswordGuess, Throttle
from broker.accounts.visit import Visit
from broker.audit.log import record
from broker.notify.outbox import Outbox
from broker.store.models import Account, BrowserSession, Interaction
from broker.store.unit import unit_of_work

TWO_FACTORS = "Cl.Cm"
PASSWORD_ONLY = "Cl"


@dataclass(frozen=True)
class PasswordChecked:
    """The account whose password was given (None when it was wrong), and the session's secret when
    the sign-in is complete with the password alone (None when a second factor is next)."""

    account: Account | None
    secret: str | None = None


def code_method(account: Account) -> str:
    """How the second factor's code comes: ``totp``, ``sms`` (with a phone to send to) or ``email``."""
    method = factors.method_of(account)
    return "email" if method == "sms" and not account.phone_number else method


class SignIn:
    def __init__(self, visit: Visit) -> None:
        self.visit = visit
        self.db = visit.db

    def _record(self, action: str, actor: str, subject: str | None, **details: Any) -> None:
        record(
            self.db,
            action,
            now=self.visit.clock(),
            actor=actor,
            subject=subject,
            client_address=self.visit.address,
            **details,
        )

    # The password

    def with_password(
        self,
        interaction: Interaction,
        email: str,
        password: str,
        second_factor_asked: bool,
        previous_secret: str | None,
    ) -> PasswordChecked:
        """One password guess. Right: the interaction holds the account, and either the session starts
        (a password was all the service asked for and the account is not under attack) or the second
        factor's code is sent."""
        now = self.visit.clock()
        guess = PasswordGuess(Throttle(self.db), normalise_email(email), self.visit.address, now)
        try:
            guess.count()
        finally:
            self.db.commit()  # counted before the slow check: concurrent guesses each see the others
        accounts = AccountService(self.db, self.visit.passwords)
        known = accounts.by_email(email)
        close_transaction(self.db)
        matches = accounts.password_matches(known, password)
        with unit_of_work(self.db):
            if known is None or not matches:
                subject = known.id if known else None
                self._record("sign_in.failure", "anonymous", subject, reason="password")
                for limit in guess.wrong():
                    self._record("lockout", "system", subject, limit=limit)
                return PasswordChecked(None)
            guarded = guess.right()
            interaction.account_id = known.id
            interaction.password_ok_at = now
            if not guarded and not second_factor_asked:
                secret = self.open_session(interaction, ["pwd"], PASSWORD_ONLY, previous_secret)
                return PasswordChecked(known, secret)
            self._send_code(interaction, known)
        return PasswordChecked(known)

    def send_code_again(self, interaction: Interaction, account: Account) -> bool:
        """A new code for the second factor ("Not received? Send again"), counted against the same
        limit as every send (``Locked`` past it). False when the method has no code to send (an app)."""
        if code_method(account) == "totp":
            return False
        with unit_of_work(self.db):
            self._send_code(interaction, account)
        return True

    def _send_code(self, interaction: Interaction, account: Account) -> None:
        method = code_method(account)
        if method == "totp":
            return
        codes = Codes(self.db, self.visit.clock(), self.visit.address)
        if method == "sms":
            codes.send(
                interaction, Purpose.SIGN_IN, account.id, "sms", account.phone_number or "", "sms_code"
            )
        else:
            codes.send(interaction, Purpose.SIGN_IN, account.id, "email", account.email, "sign_in_code")

    # The second factor

    def with_code(
        self, interaction: Interaction, account: Account, code: str, previous_secret: str | None
    ) -> str | None:
        """One attempt at the second factor's code (or the app's); right: the session's secret."""
        method = code_method(account)
        with unit_of_work(self.db):  # a wrong code is counted, and the count kept
            if not self._second_factor_matches(interaction, account, method, code):
                return None
            if account.factor_reset_requested_at is not None:  # the owner still has their factor
                account.factor_reset_requested_at = account.factor_reset_available_at = None
                self._record("factor_reset.cancelled", account.id, account.id)
            return self.open_session(interaction, factors.AMR[method], TWO_FACTORS, previous_secret)

    def _second_factor_matches(
        self, interaction: Interaction, account: Account, method: str, code: str, key: str | None = None
    ) -> bool:
        """Whether the code is right; ``key``: what an app's codes are counted under (the account's
        main method unless given)."""
        codes = Codes(self.db, self.visit.clock(), self.visit.address)
        if method != "totp":
            return codes.check(interaction, Purpose.SIGN_IN, account.id, code, account.id)

        def app_code_matches() -> bool:
            step = factors.totp_step(
                account.totp_secret or "", code, self.visit.clock(), account.totp_last_step
            )
            if step is None:
                return False
            account.totp_last_step = step  # the same code cannot be used again
            return True

        return codes.attempt(key or account.id, account.id, app_code_matches)

    def send_backup_code(self, interaction: Interaction, account: Account) -> None:
        """A code to the backup phone, kept apart from the main one so neither passes for the other."""
        with unit_of_work(self.db):
            now = self.visit.clock()
            Codes(self.db, now, self.visit.address).count_send(account.id)
            code, interaction.backup_otp_hash = new_code()
            interaction.backup_otp_expires_at = now + CODE_TTL
            Outbox(self.db).send_sms(
                account.phone_number or "", "sms_code", {"code": code, "minutes": MINUTES}, now
            )

    def with_backup_code(
        self, interaction: Interaction, account: Account, code: str, previous_secret: str | None
    ) -> str | None:
        """One attempt at the backup method's code; right: the session's secret."""
        method = str(account.backup_method)
        with unit_of_work(self.db):
            if not self._backup_code_matches(interaction, account, code):
                return None
            if account.factor_reset_requested_at is not None:  # the owner still has a way in
                account.factor_reset_requested_at = account.factor_reset_available_at = None
                self._record("factor_reset.cancelled", account.id, account.id)
            self._record("factor.backup_used", account.id, account.id, method=method)
            return self.open_session(interaction, factors.AMR[method], TWO_FACTORS, previous_secret)

    def _backup_code_matches(self, interaction: Interaction, account: Account, code: str) -> bool:
        if account.backup_method == "totp":
            return self._second_factor_matches(interaction, account, "totp", code, backup(account.id))
        now = self.visit.clock()

        def matches() -> bool:
            if code_matches(interaction.backup_otp_hash, interaction.backup_otp_expires_at, code, now):
                interaction.backup_otp_hash = None  # a code works once
                return True
            return False

        return Codes(self.db, now, self.visit.address).attempt(backup(account.id), account.id, matches)

    # Passkeys

    def passkeys(self) -> Passkeys:
        settings = self.visit.settings
        return Passkeys(self.db, RelyingPartyIdentity.for_issuer(settings.issuer, settings.service_name))

    def passkey_options(self, interaction: Interaction) -> dict[str, Any]:
        with unit_of_work(self.db):
            options, interaction.webauthn_challenge = self.passkeys().authentication_options()
        return options

    def with_passkey(
        self, interaction: Interaction, credential: dict[str, Any], previous_secret: str | None
    ) -> str | None:
        """A passkey proves both factors at once: the session's secret, or None when no challenge was
        given out (start again). A passkey that fails raises :class:`PasskeyFailed`, recorded."""
        with unit_of_work(self.db):
            challenge, interaction.webauthn_challenge = interaction.webauthn_challenge, None  # one use
            if not challenge:
                return None
            try:
                passkey = self.passkeys().authenticate(credential, challenge, self.visit.clock())
            except PasskeyFailed as failed:
                self._record("sign_in.failure", "anonymous", failed.account_id, reason="passkey")
                self.db.commit()
                raise
            interaction.account_id = passkey.account_id
            return self.open_session(interaction, PASSKEY_AMR, TWO_FACTORS, previous_secret)

    # The session

    def start(self, interaction: Interaction, amr: list[str], level: str, previous_secret: str | None) -> str:
        """Signed in (after setting up a factor): the session's secret."""
        with unit_of_work(self.db):
            return self.open_session(interaction, amr, level, previous_secret)

    def open_session(
        self, interaction: Interaction, amr: list[str], level: str, previous_secret: str | None
    ) -> str:
        """A fresh session (ending any other in this browser: no fixation), or, for a step-up of this
        browser's own session, that session upgraded with a new secret. Returns the cookie's value."""
        now = self.visit.clock()
        sessions = SessionService(self.db, self.visit.settings)
        previous = sessions.find(previous_secret, now)
        assert interaction.account_id is not None
        upgraded = _upgradable(previous, interaction)
        if upgraded is not None:
            upgraded.level = level
            upgraded.amr = sorted({*(upgraded.amr or []), *amr})
            session, secret = upgraded, sessions.rotate(upgraded)
        else:
            if previous is not None:
                sessions.end(previous.id, now)
                self.visit.endings.queue_notices(self.db, previous.id, now)
            session, secret = sessions.start(interaction.account_id, amr, level, now)
        interaction.session_id = session.id
        interaction.login_completed_at = now
        self._record(
            "sign_in.success",
            interaction.account_id,
            interaction.account_id,
            client_id=interaction.client_id,
            amr=amr,
            level=level,
            **({"step_up": True} if upgraded is not None else {}),
        )
        return secret

    # Step-up

    def for_own_pages(self, return_to: str, browser_secret: str) -> Interaction:
        """A sign-in to the broker's own pages, coming back to ``return_to``."""
        with unit_of_work(self.db):
            return InteractionService(self.db).start(
                None, {"return_to": [return_to]}, browser_secret, self.visit.clock()
            )

    def step_up(self, session: BrowserSession, return_to: str, browser_secret: str) -> Interaction:
        """The second factor for a session signed in with the password alone: an interaction that
        has the password already (the session's), with the code sent as at sign-in; completing it
        upgrades this session (see ``open_session``)."""
        with unit_of_work(self.db):
            interaction = InteractionService(self.db).start(
                None, {"return_to": [return_to]}, browser_secret, self.visit.clock()
            )
            account = self.db.get(Account, session.account_id)
            assert account is not None
            interaction.account_id = account.id
            interaction.password_ok_at = session.auth_time
            interaction.session_id = session.id  # the session to upgrade
            self._send_code(interaction, account)
        return interaction


def _upgradable(previous: BrowserSession | None, interaction: Interaction) -> BrowserSession | None:
    """The browser's session, when this interaction is its step-up and the same person signed in."""
    if previous is None or interaction.session_id != previous.id:
        return None
    return previous if previous.account_id == interaction.account_id else None
