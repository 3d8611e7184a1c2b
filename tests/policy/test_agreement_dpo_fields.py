"""What a data protection officer needs in an agreement: the fields are read from the console's draft
form and from an agreement file alike, carried through, and held to their rules (pure)."""

from __future__ import annotations

import pytest

from broker.policy.agreement_file import FileProblems, read_agreement_file
from broker.policy.claims import AGREEABLE_CLAIMS
from broker.policy.mou import (
    CONTROLLER_RELATIONSHIPS,
    DPO_FIELDS,
    SPECIAL_CATEGORY_CLAIMS,
    draft_fields,
    read_draft,
    special_category_problem,
)

FIELDS = {
    "organisation": "Department for Licences",
    "purpose": "To issue fishing licences to the right person.",
    "lawful_basis": "Public task",
    "attributes": "email P0 required 365",
    "start": "2026-01-01",
    "end": "2030-01-01",
    "review": "2027-01-01",
}
DPO = {
    "dpia_reference": "DPIA-2026-014",
    "controller_relationship": "joint_controllers",
    "special_category_condition": "",
    "deletion_on_end": "Deleted within 30 days of the agreement ending.",
    "owner_name": "Rhian Owen",
    "owner_email": "rhian.owen@licences.example.gov.uk",
    "dpo_contact": "dpo@licences.example.gov.uk",
    "breach_contact": "security@licences.example.gov.uk, 0300 000 0000",
    "international_transfers": "None: the data stays in the UK.",
}


@pytest.mark.parametrize(
    ("claims", "condition", "special", "problem"),
    [
        ((), "", frozenset({"health"}), None),
        (("email",), "", frozenset({"health"}), None),
        (
            ("email", "health"),
            "",
            frozenset({"health"}),
            "Give the Article 9 or 10 condition for sharing health",
        ),
        (("health",), "  ", frozenset({"health"}), "Give the Article 9 or 10 condition for sharing health"),
        (("health",), "Schedule 1 paragraph 6 (statutory purposes)", frozenset({"health"}), None),
        (
            ("health", "convictions"),
            "",
            frozenset({"health", "convictions"}),
            "Give the Article 9 or 10 condition for sharing convictions, health",
        ),
        # Today's vocabulary: no claim the broker shares is special-category data.
        (tuple(AGREEABLE_CLAIMS), "", SPECIAL_CATEGORY_CLAIMS, None),
    ],
)
def test_special_category_data_needs_an_article_9_or_10_condition(claims, condition, special, problem):
    assert special_category_problem(claims, condition, special) == problem


def test_no_claim_shared_today_is_special_category_data():
    assert not SPECIAL_CATEGORY_CLAIMS & AGREEABLE_CLAIMS


def test_the_draft_form_carries_every_dpo_field_both_ways():
    terms, errors = read_draft({**FIELDS, **DPO})
    assert errors == {} and terms is not None
    assert {name: getattr(terms, name) for name in DPO_FIELDS} == DPO
    assert read_draft(draft_fields(terms)) == (terms, {})


def test_the_dpo_fields_may_be_left_empty_on_a_version_written_before_they_were_asked():
    terms, errors = read_draft(FIELDS)
    assert errors == {} and terms is not None
    assert all(getattr(terms, name) == "" for name in DPO_FIELDS)


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"controller_relationship": "partners"},
            {"controller_relationship": "Choose how the parties stand to each other"},
        ),
        (
            {"owner_email": "rhian"},
            {"owner_email": "Enter the owner's email address, like name@example.gov.uk"},
        ),
        (
            {"owner_email": "rhian @x.gov.uk"},
            {"owner_email": "Enter the owner's email address, like name@example.gov.uk"},
        ),
    ],
)
def test_a_wrong_choice_or_owner_email_is_named(changes, errors):
    assert read_draft({**FIELDS, **DPO, **changes}) == (None, errors)


def test_every_relationship_is_a_choice():
    for value in CONTROLLER_RELATIONSHIPS:
        terms, errors = read_draft({**FIELDS, "controller_relationship": value})
        assert errors == {} and terms is not None and terms.controller_relationship == value


FILE = """\
mous:
- reference: MOU-fish
  client_id: fish
  versions:
  - organisation: Fishing licences
    purpose: To issue fishing licences to the right person.
    lawful_basis: Public task (UK GDPR Article 6(1)(e))
    attributes:
    - claim: email
    start: 2026-01-01
    end: 2027-01-01
    review: 2026-06-01
    dpia_reference: DPIA-2026-014
    controller_relationship: processor
    owner_name: Rhian Owen
    owner_email: rhian.owen@licences.example.gov.uk
    dpo_contact: dpo@licences.example.gov.uk
    breach_contact: security@licences.example.gov.uk
    deletion_on_end: Deleted within 30 days.
    international_transfers: None.
"""


def test_an_agreement_file_carries_the_dpo_fields():
    [entry] = read_agreement_file(FILE).mous
    terms = entry.versions[-1].terms()
    assert terms.controller_relationship == "processor" and terms.dpia_reference == "DPIA-2026-014"
    assert terms.owner_email == "rhian.owen@licences.example.gov.uk"
    assert terms.international_transfers == "None."


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            ("controller_relationship: processor", "controller_relationship: partners"),
            "line 5: MOU-fish: Choose how the parties stand to each other",
        ),
        (
            ("controller_relationship: processor", "controller_relationship: null"),
            "line 14: mous.0.versions.0.controller_relationship: Input should be a valid string",
        ),
        (
            ("dpia_reference: DPIA-2026-014", "dpia_reference: " + "D" * 65),
            "line 13: mous.0.versions.0.dpia_reference: too long",
        ),
    ],
)
def test_an_agreement_file_with_a_wrong_dpo_field_is_refused_with_its_line(change, words):
    with pytest.raises(FileProblems) as refused:
        read_agreement_file(FILE.replace(*change))
    assert words in str(refused.value)
