"""The approver's diff and the end-date rule of broker.policy.mou, as tables (pure)."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date

import pytest

from broker.policy.mou import AttributeTerm, Terms, diff, ends_sharing_at_once

TERMS = Terms(
    organisation="Department for Licences",
    purpose="To issue and renew fishing licences to the right person.",
    lawful_basis="Public task (UK GDPR Article 6(1)(e))",
    attributes=(AttributeTerm("email", "P0", True, 365), AttributeTerm("phone_number", "P0", False, 90)),
    start=date(2026, 1, 1),
    end=date(2027, 12, 31),
    review=date(2027, 6, 1),
)


CHANGES = [
    ({"organisation": "Licensing Agency"}, ("organisation", "Department for Licences", "Licensing Agency")),
    ({"purpose": "To renew licences."}, ("purpose", TERMS.purpose, "To renew licences.")),
    ({"lawful_basis": "Consent"}, ("lawful_basis", TERMS.lawful_basis, "Consent")),
    ({"start": date(2026, 2, 1)}, ("start", "2026-01-01", "2026-02-01")),
    ({"end": date(2028, 1, 1)}, ("end", "2027-12-31", "2028-01-01")),
    ({"review": date(2027, 1, 1)}, ("review", "2027-06-01", "2027-01-01")),
    ({"onward_sharing": True}, ("onward_sharing", "no", "yes")),
    ({"security_commitments": "ISO 27001"}, ("security_commitments", "", "ISO 27001")),
    ({"contacts": "dpo@example.gov.uk"}, ("contacts", "", "dpo@example.gov.uk")),
    ({"organisation_cy": "Adran Drwyddedu"}, ("organisation_cy", "", "Adran Drwyddedu")),
    ({"purpose_cy": "I roi trwyddedau."}, ("purpose_cy", "", "I roi trwyddedau.")),
    ({"lawful_basis_cy": "Tasg gyhoeddus"}, ("lawful_basis_cy", "", "Tasg gyhoeddus")),
    # What a data protection officer needs (DPO_FIELDS).
    ({"dpia_reference": "DPIA-2026-014"}, ("dpia_reference", "", "DPIA-2026-014")),
    ({"controller_relationship": "joint"}, ("controller_relationship", "", "joint")),
    ({"special_category_condition": "Art 9(2)(g)"}, ("special_category_condition", "", "Art 9(2)(g)")),
    ({"deletion_on_end": "Deleted in 30 days"}, ("deletion_on_end", "", "Deleted in 30 days")),
    ({"owner_name": "Ann Owner"}, ("owner_name", "", "Ann Owner")),
    ({"owner_email": "ann@example.gov.uk"}, ("owner_email", "", "ann@example.gov.uk")),
    ({"dpo_contact": "dpo@example.gov.uk"}, ("dpo_contact", "", "dpo@example.gov.uk")),
    ({"breach_contact": "breach@example.gov.uk"}, ("breach_contact", "", "breach@example.gov.uk")),
    ({"international_transfers": "None"}, ("international_transfers", "", "None")),
    # Each attribute's level, whether it is required, and how long it is kept; added and removed.
    (
        {"attributes": (AttributeTerm("email", "P1", True, 365), TERMS.attributes[1])},
        ("attribute email", "required, from P0, kept 365 days", "required, from P1, kept 365 days"),
    ),
    (
        {"attributes": (AttributeTerm("email", "P0", False, 365), TERMS.attributes[1])},
        ("attribute email", "required, from P0, kept 365 days", "optional, from P0, kept 365 days"),
    ),
    (
        {"attributes": (TERMS.attributes[0], AttributeTerm("phone_number", "P0", False, 30))},
        ("attribute phone_number", "optional, from P0, kept 90 days", "optional, from P0, kept 30 days"),
    ),
    (
        {"attributes": (TERMS.attributes[0],)},
        ("attribute phone_number", "optional, from P0, kept 90 days", "(not shared)"),
    ),
    (
        {"attributes": (*TERMS.attributes, AttributeTerm("address", "P2", True, 30))},
        ("attribute address", "(not shared)", "required, from P2, kept 30 days"),
    ),
]


@pytest.mark.parametrize(("change", "row"), CHANGES)
def test_the_diff_shows_each_changed_field_alone(change, row):
    assert diff(TERMS, replace(TERMS, **change)) == [row]


def test_no_field_of_the_terms_is_left_out_of_the_diff():
    """Every field a version has, including one added later, is compared."""
    assert {f.name for f in fields(Terms)} == {name for change, _row in CHANGES for name in change}
    assert diff(TERMS, TERMS) == []


def test_every_change_at_once_is_listed_in_order():
    changed = replace(TERMS, purpose="To renew licences.", end=date(2028, 1, 1), attributes=())
    assert [name for name, _old, _new in diff(TERMS, changed)] == [
        "purpose",
        "end",
        "attribute email",
        "attribute phone_number",
    ]


TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("end", "at_once"),
    [
        (date(2026, 11, 22), True),  # ended yesterday: it would govern, expired
        (date(2026, 11, 23), True),  # ends today: sharing stops tonight
        (date(2026, 11, 24), False),  # one more day
        (date(2027, 12, 31), False),
    ],
)
def test_approving_a_version_whose_end_date_has_come_ends_sharing_at_once(end, at_once):
    terms = replace(TERMS, start=date(2026, 1, 1), end=end, review=min(end, TERMS.review))
    assert ends_sharing_at_once(terms, TODAY) is at_once
