"""An agreement's words in Welsh: the organisation's name, the purpose and the lawful basis, kept with
each version (drafted, approved, exported and imported), flagged when missing, and shown to people in
Welsh, or apart and marked as English when staff have not given them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
import yaml

from broker.policy.agreement_file import FileProblems, read_agreement_file
from broker.policy.agreements import Agreements
from broker.policy.mou import (
    PUBLIC_FIELDS,
    Said,
    Terms,
    changes_needing_consent,
    diff,
    draft_fields,
    read_draft,
)
from broker.policy.service import add_version, apply, as_export, governing, terms_of
from broker.store.db import transaction
from broker.store.models import MouVersion
from tests.policy.test_service import NOW, service_with_an_agreement

TERMS = Terms(
    organisation="Department for Licences",
    purpose="To issue fishing licences to the right person.",
    lawful_basis="Public task: the Fisheries Act",
    attributes=(),
    start=date(2026, 1, 1),
    end=date(2027, 1, 1),
    review=date(2026, 6, 1),
)
GOOD_FILE = """\
mous:
- reference: MOU-fish
  client_id: fish
  versions:
  - organisation: Fishing licences
    purpose: To issue fishing licences to the right person.
    lawful_basis: Public task
    attributes:
    - claim: email
    start: 2026-01-01
    end: 2027-01-01
    review: 2026-06-01
"""
WELSH = {
    "organisation_cy": "Adran Drwyddedu",
    "purpose_cy": "I roi trwyddedau pysgota i'r person cywir.",
    "lawful_basis_cy": "Tasg gyhoeddus: Deddf Pysgodfeydd",
}


def test_each_field_people_read_without_welsh_is_missing():
    assert TERMS.missing_welsh() == list(PUBLIC_FIELDS)
    assert replace(TERMS, **WELSH).missing_welsh() == []
    assert replace(TERMS, purpose_cy="  ").missing_welsh() == list(PUBLIC_FIELDS)  # blank is missing
    assert replace(TERMS, organisation_cy="Adran Drwyddedu").missing_welsh() == ["purpose", "lawful_basis"]


@pytest.mark.parametrize(
    ("terms", "language", "said"),
    [
        (TERMS, "en", Said("To issue fishing licences to the right person.", "en", translated=True)),
        (replace(TERMS, **WELSH), "en", Said("To issue fishing licences to the right person.", "en", True)),
        (replace(TERMS, **WELSH), "cy", Said("I roi trwyddedau pysgota i'r person cywir.", "cy", True)),
        # No Welsh: the English, marked as English and not in the page's language.
        (TERMS, "cy", Said("To issue fishing licences to the right person.", "en", translated=False)),
    ],
)
def test_the_purpose_is_said_in_the_pages_language_or_marked_as_english(terms, language, said):
    assert terms.said("purpose", language) == said


def test_a_draft_carries_the_welsh_and_a_change_to_it_is_a_difference_that_asks_nobody_again():
    fields = {**draft_fields(TERMS), "attributes": "email P0 required 365", **WELSH}
    terms, errors = read_draft(fields)
    assert errors == {} and terms is not None
    assert {name: getattr(terms, name) for name in WELSH} == WELSH
    assert draft_fields(terms)["purpose_cy"] == WELSH["purpose_cy"]
    assert ("purpose_cy", "", WELSH["purpose_cy"]) in diff(replace(terms, purpose_cy=""), terms)
    assert (
        changes_needing_consent(replace(terms, purpose_cy=""), terms) == []
    )  # a translation, not a new purpose


def test_the_welsh_is_kept_with_the_version_through_approval_and_export(session_factory):
    with transaction(session_factory) as db:
        client_id, mou, current = service_with_an_agreement(db)
        assert Agreements(db, lambda: NOW).version(mou.reference).missing_welsh == [
            "organisation",
            "purpose",
            "lawful basis",
        ]
        row = add_version(db, mou, replace(terms_of(current), **WELSH), "alice", NOW)
        apply(db, row, "submit", "alice", NOW)
        apply(db, row, "approve", "bob", NOW)
        governing_now = governing(db, client_id, today=NOW.date())
        assert governing_now is not None and governing_now.number == 2
        assert {name: getattr(governing_now, name) for name in WELSH} == WELSH
        view = Agreements(db, lambda: NOW)
        assert view.version(mou.reference).missing_welsh == []
        assert [r["missing_welsh"] for r in view.overview() if r["mou"].id == mou.id] == [[]]
        exported = as_export(mou, [row])
        assert {name: exported["versions"][0][name] for name in WELSH} == WELSH
        # `broker mou import` reads back what `broker mou export` wrote, Welsh included.
        document = yaml.safe_dump({"mous": [exported]}, sort_keys=False, allow_unicode=True)
        assert read_agreement_file(document).mous[0].versions[-1].terms() == terms_of(row)


def test_an_imported_welsh_text_longer_than_its_column_is_refused():
    limit = MouVersion.__table__.c.organisation_cy.type.length
    fits = GOOD_FILE + f"    organisation_cy: {'A' * limit}\n"
    assert read_agreement_file(fits).mous[0].versions[-1].terms().organisation_cy == "A" * limit
    with pytest.raises(FileProblems, match="organisation_cy: too long"):
        read_agreement_file(GOOD_FILE + f"    organisation_cy: {'A' * (limit + 1)}\n")
    with pytest.raises(FileProblems, match="purpose_cy: Input should be a valid string"):
        read_agreement_file(GOOD_FILE + "    purpose_cy: null\n")


def test_a_version_made_without_welsh_holds_empty_text_and_is_said_in_english(session_factory):
    with transaction(session_factory) as db:
        _, _mou, current = service_with_an_agreement(db)
        assert (current.organisation_cy, current.purpose_cy, current.lawful_basis_cy) == ("", "", "")
        assert terms_of(current).said("organisation", "cy") == Said(current.organisation, "en", False)
