"""`broker mou import` reads its file against a schema: what a loose reading would misread is refused,
each problem with its line, and terms are held to the console's rules."""

from __future__ import annotations

import pytest

from broker.policy.agreement_file import FileProblems, read_agreement_file
from broker.policy.mou import MAX_RETENTION_DAYS

GOOD = """\
mous:
- reference: MOU-fish
  client_id: fish
  versions:
  - number: 1
    status: approved
    organisation: Fishing licences
    purpose: To issue fishing licences to the right person.
    lawful_basis: Public task (UK GDPR Article 6(1)(e))
    attributes:
    - claim: email
      min_level: P0
      required: false
      retention_days: 365
    start: 2026-01-01
    end: 2027-01-01
    review: 2026-06-01
    onward_sharing: no
"""


def test_a_well_formed_file_is_read_with_its_types():
    [entry] = read_agreement_file(GOOD).mous
    terms = entry.versions[-1].terms()
    assert terms.attributes[0].required is False and terms.onward_sharing is False
    assert terms.attributes[0].retention_days == 365 and terms.organisation == "Fishing licences"


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (
            ("required: false", "required: 'false'"),
            13,
            "attributes.0.required: Input should be a valid boolean",
        ),
        (
            ("onward_sharing: no", "onward_sharing: 'no'"),
            18,
            "onward_sharing: Input should be a valid boolean",
        ),
        (
            ("organisation: Fishing licences", "organisation: null"),
            7,
            "organisation: Input should be a valid string",
        ),
        (
            ("retention_days: 365", "retention_days: '365'"),
            14,
            "retention_days: Input should be a valid integer",
        ),
        (("start: 2026-01-01", "start: the first of January"), 15, "start: Input should be a valid date"),
        (("  client_id: fish\n", ""), 2, "mous.0.client_id: Field required"),
        (
            (
                "purpose: To issue fishing licences to the right person.",
                'purpose: "To\\0 issue fishing licences."',
            ),
            8,
            "purpose: control character",
        ),
        (("organisation: Fishing licences", "organisation: " + "x" * 201), 7, "organisation: too long"),
        (("claim: email", "claim: shoe_size"), 5, "shoe_size is not an attribute the broker can share"),
        (
            ("retention_days: 365", f"retention_days: {MAX_RETENTION_DAYS + 1}"),
            5,
            f"must be between 1 and {MAX_RETENTION_DAYS} days",
        ),
        (("min_level: P0", "min_level: P9"), 5, "The minimum level for email must be one of P0, P1, P2, P3"),
    ],
)
def test_each_problem_is_refused_with_its_line(change, line, words):
    old, new = change
    assert old in GOOD
    with pytest.raises(FileProblems) as refused:
        read_agreement_file(GOOD.replace(old, new, 1))
    assert f"line {line}: " in str(refused.value) and words in str(refused.value), str(refused.value)


def test_every_problem_is_named_at_once():
    text = GOOD.replace("required: false", "required: 'false'").replace(
        "organisation: Fishing licences", "organisation: null"
    )
    with pytest.raises(FileProblems) as refused:
        read_agreement_file(text)
    assert "line 7: " in str(refused.value) and "line 13: " in str(refused.value)


@pytest.mark.parametrize("text", ["mous: [", "- just a list", "mous: [{reference: X}]", "", "mous: 3"])
def test_what_is_not_an_agreement_file_is_refused_in_words(text):
    with pytest.raises(FileProblems) as refused:
        read_agreement_file(text)
    assert "line " in str(refused.value)
