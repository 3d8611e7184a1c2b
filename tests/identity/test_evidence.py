"""Document evidence at rest (pure): sealed entries keep the fingerprint and a masked number only."""

from __future__ import annotations

from typing import Any

import pytest

from broker.identity.evidence import clear_number, document_fingerprint, sealed
from vouching.documents import fingerprint

KEY = b"test document key"


def passport(number: str = "123456789") -> dict[str, Any]:
    return {
        "kind": "uk_passport",
        "strength": 4,
        "validity": 2,
        "counts": True,
        "checks": ["check_digits", "in_date", "matches_claim", "authority_confirmed"],
        "problems": [],
        "fraud_indicator": False,
        "document": {"documentNumber": number, "expiryDate": "2031-01-01", "icaoIssuerCode": "GBR"},
    }


def licence(number: str = "SMITH853125JE9AB") -> dict[str, Any]:
    return {
        **passport(),
        "kind": "uk_driving_licence",
        "document": {"personalNumber": number, "issueDate": "2020-05-01", "expiryDate": "2030-04-30"},
    }


VOUCH = {"kind": "vouch", "strength": 2, "validity": 2, "counts": True, "document": {"voucher_name": "A"}}


@pytest.mark.parametrize(
    ("entry", "field", "masked"),
    [
        (passport(), "documentNumber", "******789"),
        (licence(), "personalNumber", "*************9AB"),
    ],
)
def test_a_sealed_entry_keeps_the_fingerprint_and_a_masked_number(entry, field, masked):
    stored = sealed(entry, KEY)
    number = entry["document"][field]
    assert stored["document"][field] == masked
    assert stored["fingerprint"] == fingerprint(KEY, entry["kind"], number)
    assert number not in repr(stored)
    # Everything the broker decided is kept as it was.
    assert {k: v for k, v in stored.items() if k not in ("document", "fingerprint")} == {
        k: v for k, v in entry.items() if k != "document"
    }
    assert entry["document"][field] == number  # the entry given is not changed


def test_sealing_twice_changes_nothing_and_the_fingerprint_outlives_the_number():
    once = sealed(passport(), KEY)
    assert sealed(once, KEY) == once
    assert clear_number(once) is None
    assert document_fingerprint(once, KEY) == fingerprint(KEY, "uk_passport", "123456789")
    assert document_fingerprint(once, b"another key") == once["fingerprint"]  # kept, not recomputed


def test_entries_stored_before_sealing_are_read_from_their_number():
    """Rows written before numbers were masked: the number is still there to fingerprint."""
    legacy = passport("1234 56789<")
    assert clear_number(legacy) == "1234 56789<"
    assert document_fingerprint(legacy, KEY) == fingerprint(KEY, "uk_passport", "123456789")


def test_a_vouch_or_a_document_without_a_number_has_nothing_to_seal():
    assert sealed(VOUCH, KEY) is VOUCH
    assert clear_number(VOUCH) is None and document_fingerprint(VOUCH, KEY) is None
    numberless = {**passport(), "document": {"expiryDate": "2031-01-01"}}
    assert sealed(numberless, KEY) is numberless
    assert document_fingerprint(numberless, KEY) is None
    masked_only = {**passport("******789")}  # masked, without its fingerprint: nothing to recover
    assert clear_number(masked_only) is None and document_fingerprint(masked_only, KEY) is None
