"""The rules of changing how a person signs in, without a database: codes, and what a backup may be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from broker.accounts.changes import (
    backup_choices,
    code_matches,
    new_code,
    remove_backup,
    set_backup,
    uses_app,
    uses_phone,
)
from broker.store.models import Account

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def account(**values: object) -> Account:
    return Account(email="a@example.org", created_at=NOW, **values)


def test_a_code_matches_only_until_it_expires():
    code, code_hash = new_code()
    later = NOW + timedelta(minutes=15)
    assert len(code) == 6 and code.isdigit() and code not in code_hash
    assert code_matches(code_hash, later, code, NOW)
    assert code_matches(code_hash, later, f" {code[:3]} {code[3:]} ", NOW)  # as people type it
    assert not code_matches(code_hash, later, code, later)  # expired
    assert not code_matches(code_hash, later, f"{(int(code) + 1) % 10**6:06d}", NOW)
    assert not code_matches(None, later, code, NOW)  # used, or never sent
    assert not code_matches(code_hash, None, code, NOW)


@pytest.mark.parametrize(
    ("main", "choices"),
    [(None, ["sms", "totp"]), ("email", ["sms", "totp"]), ("sms", ["totp"]), ("totp", ["sms"])],
)
def test_a_backup_is_never_the_main_method(main, choices):
    assert backup_choices(account(mfa_method=main)) == choices


def test_the_app_and_the_phone_are_in_use_as_main_or_backup():
    assert uses_app(account(mfa_method="totp")) and uses_app(account(mfa_method="sms", backup_method="totp"))
    assert uses_phone(account(mfa_method="sms")) and uses_phone(account(backup_method="sms"))
    assert not uses_app(account()) and not uses_phone(account(mfa_method="totp"))


def test_changing_or_removing_the_backup_forgets_what_it_used():
    person = account(backup_method="sms", phone_number="+447911123456", phone_number_verified=True)
    set_backup(person, "totp")
    assert person.backup_method == "totp" and person.phone_number is None and not person.phone_number_verified
    person.totp_secret, person.totp_last_step = "SECRET", 1
    remove_backup(person)
    assert person.backup_method is None and person.totp_secret is None and person.totp_last_step is None


def test_the_main_method_keeps_its_own_phone_when_the_backup_app_goes():
    person = account(mfa_method="sms", phone_number="+447911123456", backup_method="totp", totp_secret="S")
    remove_backup(person)
    assert person.phone_number == "+447911123456" and person.totp_secret is None
    with pytest.raises(ValueError):
        set_backup(person, "sms")  # the main method cannot also be the backup
