"""Getting back in: a forgotten password (reset by an emailed code; every session and token of the
account ends), and a lost second factor (proven by an emailed code, then a wait, so that the owner,
told at once, can stop someone else who has the password)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from broker.accounts import factors
from broker.accounts.codes import Codes, Purpose
from broker.accounts.security import end_everywhere
from broker.accounts.service import AccountService, close_transaction
from broker.accounts.visit import Visit
from broker.audit.log import record
from broker.notify.outbox import Outbox
from broker.store.models import Account, Interaction
from broker.store.unit import unit_of_work


class Recovery:
    def __init__(self, visit: Visit) -> None:
        self.visit = visit
        self.db = visit.db

    def reset_password(self, interaction: Interaction, account: Account, new: str) -> None:
        """The new password (hashed with no transaction open); the owner is told, and every session
        and token of the account ends."""
        close_transaction(self.db)
        with unit_of_work(self.db):
            AccountService(self.db, self.visit.passwords).set_password(account, new)
            Outbox(self.db).send_email(account.email, "password_changed", {}, self.visit.clock())
            interaction.journey_email = interaction.journey_verified_at = None
            end_everywhere(self.visit, account.id, "password.reset", "password reset")
        self.visit.endings.wake()


class LostFactor(StrEnum):
    WRONG_CODE = "wrong code"
    SET_UP_NOW = "the wait is over: set up a new factor"
    WAITING = "asked, and waiting"


def reset_is_due(account: Account, now: datetime) -> bool:
    return account.factor_reset_available_at is not None and account.factor_reset_available_at <= now


def waits_for_reset(account: Account) -> bool:
    """Whether a new way of getting codes waits (``factor_reset_wait_hours``). The wait protects an
    owner whose password someone else knows; for codes by email, the emailed code the reset asks for
    is the second factor itself, so the person may choose another way at once."""
    return factors.method_of(account) != "email"


class FactorReset:
    """The lost-factor reset: email code, then the wait (``factor_reset_wait_hours``)."""

    def __init__(self, visit: Visit) -> None:
        self.visit = visit
        self.db = visit.db

    def send_code(self, interaction: Interaction, account: Account) -> None:
        with unit_of_work(self.db):
            Codes(self.db, self.visit.clock(), self.visit.address).send(
                interaction, Purpose.LOST_FACTOR, account.id, "email", account.email, "sign_in_code"
            )

    def check_code(self, interaction: Interaction, account: Account, code: str) -> LostFactor:
        """The emailed code: once the wait is over, the interaction may set up a new factor; before,
        the first right code starts the wait and tells the owner."""
        now = self.visit.clock()
        hours = self.visit.settings.factor_reset_wait_hours
        with unit_of_work(self.db):
            if not Codes(self.db, now, self.visit.address).check(
                interaction, Purpose.LOST_FACTOR, account.id, code, account.id
            ):
                return LostFactor.WRONG_CODE
            if reset_is_due(account, now) or not waits_for_reset(account):
                interaction.factor_setup_for = account.id
                return LostFactor.SET_UP_NOW
            if account.factor_reset_available_at is None:
                account.factor_reset_requested_at = now
                account.factor_reset_available_at = now + timedelta(hours=hours)
                Outbox(self.db).send_email(account.email, "factor_reset_requested", {"hours": hours}, now)
                record(
                    self.db,
                    "factor_reset.requested",
                    now=now,
                    actor=account.id,
                    subject=account.id,
                    client_address=self.visit.address,
                )
        return LostFactor.WAITING
