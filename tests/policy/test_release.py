"""The release decision and the MOU life cycle, as tables (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from broker.policy.mou import (
    AttributeTerm,
    PolicyError,
    Terms,
    Version,
    act,
    changes_needing_consent,
    diff,
    effective_status,
    governing_number,
)
from broker.policy.release import Agreement, ConsentFacts, decide

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CORE = "https://vocab.account.gov.uk/v1/coreIdentityJWT"
TERMS = Terms(
    organisation="Department for Licences",
    purpose="To issue and renew fishing licences to the right person.",
    lawful_basis="Public task (UK GDPR Article 6(1)(e))",
    attributes=(
        AttributeTerm("email", "P0", True, 365),
        AttributeTerm("phone_number", "P0", False, 90),
        AttributeTerm(CORE, "P2", True, 30),
    ),
    start=date(2026, 1, 1),
    end=date(2027, 12, 31),
    review=date(2027, 6, 1),
)
ACTIVE = Agreement("v1", "approved", TERMS)
AGREED = ConsentFacts("v1", frozenset({"email", "phone_number", CORE}))


@pytest.mark.parametrize(
    ("agreement", "requested", "consent", "level", "now", "released", "refused"),
    [
        (ACTIVE, {"email"}, AGREED, "P0", NOW, {"email"}, {}),
        (ACTIVE, {"sub", "email"}, AGREED, "P0", NOW, {"email"}, {}),  # sub is not an attribute
        (ACTIVE, {"email", CORE}, AGREED, "P2", NOW, {"email", CORE}, {}),
        (ACTIVE, {"email", CORE}, AGREED, "P1", NOW, {"email"}, {CORE: "it needs an identity proven to P2"}),
        (
            ACTIVE,
            {"birthdate"},
            AGREED,
            "P3",
            NOW,
            set(),
            {"birthdate": "the data sharing agreement does not cover it"},
        ),
        (ACTIVE, {"email"}, None, "P0", NOW, set(), {"email": "the person has not agreed to share it"}),
        (
            ACTIVE,
            {"email"},
            replace(AGREED, withdrawn=True),
            "P0",
            NOW,
            set(),
            {"email": "the person has not agreed to share it"},
        ),
        (
            ACTIVE,
            {"email", "phone_number"},
            ConsentFacts("v1", frozenset({"email"})),  # declined the optional phone number
            "P0",
            NOW,
            {"email"},
            {"phone_number": "the person chose not to share it"},
        ),
        (None, {"email"}, AGREED, "P0", NOW, set(), {"email": "the service has no data sharing agreement"}),
        (
            replace(ACTIVE, status="suspended"),
            {"email"},
            AGREED,
            "P0",
            NOW,
            set(),
            {"email": "the service's data sharing agreement is not in force"},
        ),
        (
            replace(ACTIVE, status="terminated"),
            {"email"},
            AGREED,
            "P0",
            NOW,
            set(),
            {"email": "the service's data sharing agreement is not in force"},
        ),
        (
            replace(ACTIVE, status="submitted"),
            {"email"},
            AGREED,
            "P0",
            NOW,
            set(),
            {"email": "the service's data sharing agreement is not in force"},
        ),
        # Past its end date: stops at once, nobody acts (e.g. between consent and the token request).
        (
            ACTIVE,
            {"email"},
            AGREED,
            "P0",
            datetime(2028, 1, 1, tzinfo=UTC),
            set(),
            {"email": "the service's data sharing agreement is not in force"},
        ),
        # Before its start date.
        (
            ACTIVE,
            {"email"},
            AGREED,
            "P0",
            datetime(2025, 12, 31, tzinfo=UTC),
            set(),
            {"email": "the service's data sharing agreement is not in force"},
        ),
    ],
)
def test_release_decision(agreement, requested, consent, level, now, released, refused):
    result = decide(agreement, frozenset(requested), consent, level, now)
    assert result.released == frozenset(released) and result.refused == refused


def test_before_consent_only_the_mou_is_asked():
    result = decide(ACTIVE, frozenset({"email", "birthdate"}), None, "P0", NOW, consent_needed=False)
    assert result.released == {"email"} and list(result.refused) == ["birthdate"]


def version(status: str, author: str = "alice", submitted_by: str | None = None) -> Version:
    return Version("MOU-1", 1, "svc", status, TERMS, author, submitted_by=submitted_by)


@pytest.mark.parametrize(
    ("status", "action", "actor", "outcome"),
    [
        ("draft", "submit", "alice", "submitted"),
        ("submitted", "approve", "bob", "approved"),
        ("submitted", "approve", "alice", "The author of a version cannot approve it"),
        ("submitted", "reject", "bob", "draft"),
        ("approved", "suspend", "bob", "suspended"),
        ("suspended", "resume", "bob", "approved"),
        ("suspended", "terminate", "bob", "terminated"),
        ("draft", "approve", "bob", "A draft version cannot be approved"),
        ("terminated", "resume", "bob", "A terminated version cannot be resumed"),
        ("approved", "submit", "alice", "A approved version cannot be submitted"),
    ],
)
def test_life_cycle(status, action, actor, outcome):
    if outcome[0].isupper():
        with pytest.raises(PolicyError, match=outcome):
            act(version(status), action, actor)
    else:
        assert act(version(status), action, actor) == outcome


@pytest.mark.parametrize(
    ("author", "submitted_by", "approver", "outcome"),
    [
        ("alice", "alice", "bob", "approved"),
        ("alice", "bob", "carol", "approved"),
        ("alice", "bob", "alice", "The author of a version cannot approve it"),
        # Bob submitting Alice's unfinished draft cannot then approve it alone.
        ("alice", "bob", "bob", "The person who submitted a version cannot approve it"),
    ],
)
def test_two_people_approve_nobody_approves_what_they_wrote_or_submitted(
    author, submitted_by, approver, outcome
):
    submitted = version("submitted", author, submitted_by)
    if outcome == "approved":
        assert act(submitted, "approve", approver) == "approved"
    else:
        with pytest.raises(PolicyError, match=outcome):
            act(submitted, "approve", approver)


def test_incomplete_terms_cannot_be_submitted():
    bare = replace(TERMS, purpose="short", attributes=(), review=date(2030, 1, 1))
    with pytest.raises(PolicyError) as error:
        act(replace(version("draft"), terms=bare), "submit", "alice")
    assert (
        "purpose" in str(error.value)
        and "at least one attribute" in str(error.value)
        and "review date" in str(error.value)
    )


@pytest.mark.parametrize(
    ("status", "today", "effective"),
    [
        ("approved", date(2026, 6, 1), "active"),
        ("approved", date(2025, 6, 1), "approved"),
        ("approved", date(2028, 1, 1), "expired"),
        ("suspended", date(2026, 6, 1), "suspended"),
        ("draft", date(2026, 6, 1), "draft"),
    ],
)
def test_effective_status(status, today, effective):
    assert effective_status(status, TERMS, today) == effective


TODAY = date(2026, 6, 1)
LATER = date(2026, 7, 1)


@pytest.mark.parametrize(
    ("versions", "governs"),
    [
        ([], None),
        ([(1, "draft", TODAY)], None),
        ([(1, "approved", TODAY), (2, "submitted", TODAY)], 1),
        ([(1, "approved", TODAY), (2, "approved", TODAY)], 2),
        # Approving a version that starts later does not stop the one in force: it takes over then.
        ([(1, "approved", TODAY), (2, "approved", LATER)], 1),
        ([(1, "approved", LATER - timedelta(days=60)), (2, "approved", TODAY)], 2),
        # A suspended or terminated version still governs once it has started (nothing is released),
        # and an earlier version never revives.
        ([(1, "approved", TODAY), (2, "suspended", TODAY)], 2),
        ([(1, "approved", TODAY), (2, "terminated", TODAY), (3, "approved", LATER)], 2),
        ([(1, "suspended", TODAY), (2, "approved", LATER)], 1),
        # Before any has started, the newest approved governs (not yet in force).
        ([(1, "approved", LATER), (2, "approved", LATER + timedelta(days=1))], 2),
    ],
)
def test_the_governing_version_is_the_newest_approved_whose_start_has_come(versions, governs):
    assert governing_number(versions, TODAY) == governs


def test_an_approved_future_version_governs_from_its_start_date():
    versions = [(1, "approved", TODAY), (2, "approved", LATER)]
    assert governing_number(versions, LATER - timedelta(days=1)) == 1
    assert governing_number(versions, LATER) == 2


def test_each_problem_names_its_field():
    late_review = replace(TERMS, review=date(2030, 1, 1))
    assert late_review.field_problems() == [
        ("review", "The review date must fall between the start and end dates")
    ]
    backwards = replace(TERMS, end=TERMS.start, review=TERMS.start)
    assert [f for f, _ in backwards.field_problems()] == ["end"]
    bad_level = replace(TERMS, attributes=(AttributeTerm("email", "P9"),))
    assert bad_level.field_problems() == [
        ("attributes", "The minimum level for email must be one of P0, P1, P2, P3")
    ]


def test_a_new_version_asks_again_when_it_adds_attributes_or_changes_the_purpose():
    more = replace(TERMS, attributes=(*TERMS.attributes, AttributeTerm("birthdate", "P2")))
    assert changes_needing_consent(TERMS, more) == ["adds birthdate"]
    assert changes_needing_consent(
        TERMS, replace(TERMS, purpose="Something else entirely, for a while.")
    ) == ["changes the purpose"]
    assert changes_needing_consent(TERMS, replace(TERMS, end=TERMS.end + timedelta(days=365))) == []
    fewer = replace(TERMS, attributes=TERMS.attributes[:1])
    assert changes_needing_consent(TERMS, fewer) == []
    assert changes_needing_consent(TERMS, replace(TERMS, lawful_basis="Consent")) == [
        "changes the lawful basis"
    ]
    shorter = replace(TERMS, attributes=tuple(replace(a, retention_days=7) for a in TERMS.attributes))
    assert changes_needing_consent(TERMS, shorter) == []


def test_companion_claims_ride_with_their_main_claim_when_versions_are_compared():
    email_only = replace(TERMS, attributes=(AttributeTerm("email", "P0"),))
    with_companion = replace(
        email_only, attributes=(AttributeTerm("email", "P0"), AttributeTerm("email_verified", "P0"))
    )
    assert changes_needing_consent(email_only, with_companion) == []
    assert changes_needing_consent(with_companion, email_only) == []
    phone_added = replace(
        with_companion,
        attributes=(*with_companion.attributes, AttributeTerm("phone_number_verified", "P0")),
    )
    assert changes_needing_consent(email_only, phone_added) == ["adds phone_number_verified"]


def test_diff_lists_each_changed_field_side_by_side():
    changed = replace(TERMS, lawful_basis="Consent", attributes=(AttributeTerm("email", "P1", True, 30),))
    rows = {name: (a, b) for name, a, b in diff(TERMS, changed)}
    assert rows["lawful_basis"] == ("Public task (UK GDPR Article 6(1)(e))", "Consent")
    assert rows["attribute email"] == ("required, from P0, kept 365 days", "required, from P1, kept 30 days")
    assert rows["attribute phone_number"][1] == "(not shared)"


def test_attribute_lines_as_an_author_types_them():
    from broker.policy.mou import attribute_lines, parse_attribute_lines

    parsed = parse_attribute_lines("email P0 required 365\n\nphone_number P1 optional 90\n")
    assert parsed == (AttributeTerm("email", "P0", True, 365), AttributeTerm("phone_number", "P1", False, 90))
    assert parse_attribute_lines(attribute_lines(replace(TERMS, attributes=parsed))) == parsed
    for bad in (
        "email P4 required 365",
        "email P0 maybe 365",
        "email P0 required ever",
        "email",
        "email P0 required \u00b2",  # a digit to str.isdigit, not to int()
        "email P0 required \u0661\u0662",  # Arabic-Indic digits
    ):
        with pytest.raises(PolicyError, match="Attribute line 1 must read"):
            parse_attribute_lines(bad)
