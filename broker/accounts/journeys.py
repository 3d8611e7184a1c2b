"""The email-code journeys (create an account, reset a password): starting with an address, and the
code that proves the person holds it.

Whether the address has an account is never revealed on screen: both journeys look and count the same
either way (a code nobody has arms the check when no code can work).
"""

from __future__ import annotations

from broker.accounts.codes import Codes, Purpose
from broker.accounts.service import AccountService
from broker.accounts.visit import Visit
from broker.notify.outbox import Outbox
from broker.store.models import Interaction
from broker.store.unit import unit_of_work


def restart(interaction: Interaction, address: str) -> None:
    """Start (or start again) with ``address``. Whatever the interaction held of a sign-in begun
    before (whose password was checked, who may set up a factor) is forgotten: nothing proven for one
    person may carry over to a journey for another address."""
    interaction.journey_email, interaction.journey_verified_at = address, None
    interaction.account_id = interaction.password_ok_at = interaction.factor_setup_for = None


class EmailJourneys:
    def __init__(self, visit: Visit) -> None:
        self.visit = visit
        self.db = visit.db

    def _codes(self) -> Codes:
        return Codes(self.db, self.visit.clock(), self.visit.address)

    def _known(self, address: str) -> bool:
        return AccountService(self.db, self.visit.passwords).by_email(address) is not None

    def start_new_account(self, interaction: Interaction, address: str) -> None:
        """A code to a new address; an address that has an account is told so by email instead."""
        with unit_of_work(self.db):
            codes = self._codes()
            restart(interaction, address)
            if self._known(address):
                codes.count_send(address)
                codes.spoil(interaction)
                Outbox(self.db).send_email(address, "account_exists", {}, self.visit.clock())
            else:
                codes.send(interaction, Purpose.NEW_ACCOUNT, address, "email", address, "verify_email")

    def start_reset(self, interaction: Interaction, address: str) -> None:
        """A code to reset the password of the address's account, if it has one."""
        with unit_of_work(self.db):
            codes = self._codes()
            restart(interaction, address)
            if self._known(address):
                codes.send(interaction, Purpose.RESET_PASSWORD, address, "email", address, "reset_code")
            else:
                codes.count_send(address)
                codes.spoil(interaction)  # the same journey, and no code can work

    def check_code(self, interaction: Interaction, purpose: Purpose, code: str) -> bool:
        """The code emailed for this journey's address; on success the address counts as proven.
        A wrong code is counted, and the count kept."""
        assert interaction.journey_email
        with unit_of_work(self.db):
            if not self._codes().check(interaction, purpose, interaction.journey_email, code, None):
                return False
            interaction.journey_verified_at = self.visit.clock()
        return True
