"""Sent codes share one slot per sign-in attempt, so each is bound to what it was sent for and to
whom: a code passes only the step and the person or address it was sent for."""

from __future__ import annotations

from datetime import UTC, datetime

from broker.accounts.codes import Codes, Purpose
from broker.accounts.interactions import InteractionService
from broker.store.models import OutboxMessage

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _sent_code(db, recipient: str) -> str:
    message = db.query(OutboxMessage).filter_by(recipient=recipient).one()
    return str(message.personalisation["code"])


def test_a_code_passes_only_for_its_purpose_and_person(session_factory):
    with session_factory() as db:
        interactions = InteractionService(db)
        interaction = interactions.start(None, {"return_to": ["/account"]}, "secret", NOW)
        codes = Codes(db, NOW, "127.0.0.1")
        codes.send(
            interaction,
            Purpose.RESET_PASSWORD,
            "mallory@example.org",
            "email",
            "mallory@example.org",
            "reset_code",
        )
        code = _sent_code(db, "mallory@example.org")
        snapshot = interaction.otp_hash
        for purpose, who in (
            (Purpose.SIGN_IN, "victim-account-id"),  # another step, another person
            (Purpose.SIGN_IN, "mallory@example.org"),  # another step
            (Purpose.NEW_ACCOUNT, "mallory@example.org"),  # another journey for the same address
            (Purpose.RESET_PASSWORD, "victim@example.org"),  # the same journey, another address
        ):
            assert not codes.check(interaction, purpose, who, code, None), (purpose, who)
            assert interaction.otp_hash == snapshot  # still armed: a wrong binding is a wrong code
        assert codes.check(interaction, Purpose.RESET_PASSWORD, "mallory@example.org", code, None)
        assert not codes.check(interaction, Purpose.RESET_PASSWORD, "mallory@example.org", code, None)


def test_a_spoiled_slot_passes_no_code(session_factory):
    with session_factory() as db:
        interaction = InteractionService(db).start(None, {"return_to": ["/account"]}, "secret", NOW)
        codes = Codes(db, NOW, "127.0.0.1")
        codes.spoil(interaction)
        assert all(
            not codes.check(interaction, purpose, "someone@example.org", f"{n:06d}", None)
            for purpose in (Purpose.RESET_PASSWORD, Purpose.NEW_ACCOUNT)
            for n in (0, 123456)
        )
