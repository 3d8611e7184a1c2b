"""Creating an account: the password (once the email address is proven), then a second factor
(authenticator app, text message, email or passkey), then signed in.

The second-factor steps also serve a lost-factor reset whose wait is over: the interaction names the
account that may set up a factor (``Interaction.factor_setup_for``).
"""

from __future__ import annotations

from typing import Any

from broker.accounts import factors
from broker.accounts.codes import Codes, Purpose
from broker.accounts.passkeys import AMR as PASSKEY_AMR
from broker.accounts.service import AccountExists, AccountService, close_transaction
from broker.accounts.signin import TWO_FACTORS, SignIn
from broker.accounts.visit import Visit
from broker.audit.log import record
from broker.store.models import Account, Interaction
from broker.store.unit import unit_of_work


def account_setting_up_factor(db: Any, interaction: Interaction) -> Account | None:
    """The account that may set up a second factor here (see Interaction.factor_setup_for), if any."""
    if not interaction.account_id or interaction.factor_setup_for != interaction.account_id:
        return None
    account: Account | None = db.get(Account, interaction.account_id)
    return account


class SignUp:
    def __init__(self, visit: Visit) -> None:
        self.visit = visit
        self.db = visit.db
        self.sign_in = SignIn(visit)

    def _record(self, action: str, account: Account, **details: Any) -> None:
        record(
            self.db,
            action,
            now=self.visit.clock(),
            actor=account.id,
            subject=account.id,
            client_address=self.visit.address,
            **details,
        )

    def create(self, interaction: Interaction, password: str) -> Account | None:
        """The account for the journey's proven address (None when one was made for it meanwhile);
        the interaction may now set up its second factor."""
        assert interaction.journey_email
        close_transaction(self.db)  # the hash runs first, with no transaction open
        now = self.visit.clock()
        with unit_of_work(self.db):
            try:
                account = AccountService(self.db, self.visit.passwords).create(
                    interaction.journey_email, password, verified=True, now=now
                )
            except AccountExists:
                return None
            interaction.account_id = interaction.factor_setup_for = account.id
            interaction.password_ok_at = now
            self._record("account.created", account, client_id=interaction.client_id)
        return account

    def choose_app(self, interaction: Interaction) -> None:
        with unit_of_work(self.db):
            interaction.pending_totp_secret = factors.new_totp_secret()

    def confirm_app(
        self, interaction: Interaction, account: Account, code: str, previous_secret: str | None
    ) -> str | None:
        """The new app's code: right, the app is the second factor and the session's secret returns."""
        step = factors.totp_step(interaction.pending_totp_secret or "", code, self.visit.clock(), None)
        if step is None:
            return None
        with unit_of_work(self.db):
            account.totp_secret, account.totp_last_step = interaction.pending_totp_secret, step
            interaction.pending_totp_secret = None
            return self._finish(interaction, account, "totp", previous_secret)

    def send_phone_code(self, interaction: Interaction, account: Account, number: str) -> None:
        with unit_of_work(self.db):
            interaction.pending_phone = number
            Codes(self.db, self.visit.clock(), self.visit.address).send(
                interaction, Purpose.NEW_PHONE, account.id, "sms", number, "sms_code"
            )

    def confirm_phone(
        self, interaction: Interaction, account: Account, code: str, previous_secret: str | None
    ) -> str | None:
        """The code sent to the new phone (a wrong one counted and kept); right: the session's secret."""
        with unit_of_work(self.db):
            codes = Codes(self.db, self.visit.clock(), self.visit.address)
            if not codes.check(interaction, Purpose.NEW_PHONE, account.id, code, account.id):
                return None
            account.phone_number, account.phone_number_verified = interaction.pending_phone, True
            interaction.pending_phone = None
            return self._finish(interaction, account, "sms", previous_secret)

    def choose_email(self, interaction: Interaction, account: Account, previous_secret: str | None) -> str:
        with unit_of_work(self.db):
            return self._finish(interaction, account, "email", previous_secret)

    def _finish(
        self, interaction: Interaction, account: Account, method: str, previous_secret: str | None
    ) -> str:
        account.mfa_method = method
        if account.backup_method == method:  # after a lost-factor reset: a backup must be another way
            account.backup_method = None
        interaction.factor_setup_for = None
        if account.factor_reset_requested_at is not None:
            account.factor_reset_requested_at = account.factor_reset_available_at = None
            self._record("factor_reset.completed", account, method=method)
        self._record("factor.set", account, method=method)
        return self.sign_in.open_session(interaction, factors.AMR[method], TWO_FACTORS, previous_secret)

    # A passkey as the second factor

    def passkey_options(self, interaction: Interaction, account: Account) -> dict[str, Any]:
        with unit_of_work(self.db):
            options, interaction.webauthn_challenge = self.sign_in.passkeys().registration_options(account)
        return options

    def register_passkey(
        self,
        interaction: Interaction,
        credential: dict[str, Any],
        name: str,
        previous_secret: str | None,
    ) -> str | None:
        """The passkey registered and signed in with; None when there is nothing to register for."""
        with unit_of_work(self.db):
            account = account_setting_up_factor(self.db, interaction)
            challenge, interaction.webauthn_challenge = interaction.webauthn_challenge, None
            if account is None or not challenge:
                return None
            now = self.visit.clock()
            passkey = self.sign_in.passkeys().register(account, credential, challenge, name, now)
            account.mfa_method = account.mfa_method or "email"  # password sign-ins still need a second factor
            interaction.factor_setup_for = None
            account.factor_reset_requested_at = account.factor_reset_available_at = None
            self._record("factor.set", account, method="passkey", passkey=passkey.name)
            return self.sign_in.open_session(interaction, PASSKEY_AMR, TWO_FACTORS, previous_secret)
