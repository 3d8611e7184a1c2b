"""One-time codes for a journey (sign-in, account creation, recovery), with throttling and audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from broker.accounts.interactions import CODE_TTL, InteractionService
from broker.accounts.text import N_
from broker.accounts.throttle import (
    CODE_PER_ACCOUNT,
    CODE_PER_ACCOUNT_ADDRESS,
    CODE_PER_ADDRESS,
    CODE_SENDS_PER_ACCOUNT,
    CodeCounts,
    Limit,
    Locked,
    Throttle,
    code_entry_refused,
)
from broker.audit.log import record
from broker.notify.outbox import Outbox
from broker.store.models import Interaction

MINUTES = int(CODE_TTL.total_seconds() // 60)
WRONG_CODE = N_("The security code is not correct, or it has expired")


class Purpose(StrEnum):
    """What a sent code is for. A code passes only the step it was sent for, for the same person
    or address (see ``InteractionService.issue_code``)."""

    SIGN_IN = "sign-in"  # the second factor (text message or email)
    LOST_FACTOR = "lost-factor"  # proving the email address before a second-factor reset
    NEW_PHONE = "new-phone"  # a phone number being set up as the second factor
    NEW_ACCOUNT = "new-account"  # the email address of an account being created
    RESET_PASSWORD = "reset-password"  # the email address of a forgotten password
    NONE = "none"  # a journey that must look the same but where no code can work


class Codes:
    def __init__(self, db: Session, now: datetime, client_address: str | None) -> None:
        self.db = db
        self.now = now
        self.address = client_address
        self.throttle = Throttle(db)
        self.interactions = InteractionService(db)

    def send(
        self,
        interaction: Interaction,
        purpose: Purpose,
        who: str,
        channel: str,
        recipient: str,
        template: str,
    ) -> None:
        """Send a new code for ``purpose`` (replacing any earlier one). ``who`` is the account or address
        the code is for, and the key codes are throttled under."""
        self.count_send(who)
        code = self.interactions.issue_code(interaction, self.now, _binding(purpose, who))
        outbox = Outbox(self.db)
        send = outbox.send_sms if channel == "sms" else outbox.send_email
        send(recipient, template, {"code": code, "minutes": MINUTES}, self.now)

    def count_send(self, who: str) -> None:
        """Count a message sent about ``who``; too many in an hour are refused."""
        until = self.throttle.check(CODE_SENDS_PER_ACCOUNT, who, self.now)
        if until:
            raise Locked(until, self.now, "sending security codes")
        self.throttle.fail(CODE_SENDS_PER_ACCOUNT, who, self.now)  # counts sends, not failures

    def spoil(self, interaction: Interaction) -> None:
        """Arm the code check with a code nobody has (so a journey behaves the same either way)."""
        self.interactions.issue_code(interaction, self.now, _binding(Purpose.NONE, ""))

    def check(
        self, interaction: Interaction, purpose: Purpose, who: str, code: str, subject: str | None
    ) -> bool:
        """One attempt at the code sent for ``purpose`` to ``who`` in this journey; a code works once."""

        def matches() -> bool:
            if self.interactions.check_code(interaction, code, self.now, _binding(purpose, who)):
                interaction.otp_hash = None
                return True
            return False

        return self.attempt(who, subject, matches)

    def attempt(self, who: str, subject: str | None, verify: Callable[[], bool]) -> bool:
        """Any code check (sent codes, authenticator apps), throttled by the rule in
        :mod:`broker.accounts.throttle`: wrong codes block the address they came from, for ``who``
        (the key the codes are counted under: an account, an address being proved, or an account's
        :func:`backup` method), and only codes from many addresses close ``who`` everywhere."""
        pair = f"{who}\n{self.address or ''}"
        refused = code_entry_refused(
            CodeCounts(
                address=self.throttle.counter(CODE_PER_ADDRESS, self.address),
                account_address=self.throttle.counter(CODE_PER_ACCOUNT_ADDRESS, pair),
                account=self.throttle.counter(CODE_PER_ACCOUNT, who),
            ),
            self.now,
        )
        if refused:
            raise Locked(refused[1], self.now, _blocked(refused[0]))
        if verify():
            self.throttle.succeed(CODE_PER_ACCOUNT_ADDRESS, pair)  # this address's mistakes only
            return True
        record(
            self.db,
            "code.failed",
            now=self.now,
            actor=subject or "anonymous",
            subject=subject,
            client_address=self.address,
        )
        blocks: list[tuple[Limit, datetime]] = []
        for limit, key in (
            (CODE_PER_ACCOUNT_ADDRESS, pair),
            (CODE_PER_ADDRESS, self.address),
            (CODE_PER_ACCOUNT, who),
        ):
            blocked = self.throttle.fail(limit, key, self.now)
            if blocked:
                blocks.append((limit, blocked))
                record(
                    self.db,
                    "lockout",
                    now=self.now,
                    actor="system",
                    subject=subject,
                    client_address=self.address,
                    limit=limit.name,
                )
        if blocks:
            self.db.commit()  # the counts and the lockout are kept, whatever the caller does next
            raise Locked(blocks[0][1], self.now, _blocked(blocks[0][0]))
        return False


def backup(who: str) -> str:
    """The key an account's backup method's codes are counted under: apart from the main method's, so
    that guessing at one never closes the other (the owner's way through)."""
    return f"{who}\nbackup"


def _blocked(limit: Limit) -> str:
    """What the refusal says is blocked (one of ``throttle.BLOCKED``)."""
    return (
        "entering this account's security codes" if limit is CODE_PER_ACCOUNT else "entering security codes"
    )


def _binding(purpose: Purpose, who: str) -> str:
    return f"{purpose.value}\x00{who}"
