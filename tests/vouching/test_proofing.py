"""What documents earn, and the simulated authorities' answers (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from vouching.authorities import (
    DocumentAnswer,
    DocumentQuery,
    activity_score,
    knowledge_score,
    simulated,
)
from vouching.documents import PassportDetails, format_td3, parse_td3
from vouching.person import ClaimedPerson, normalise_name, normalise_postcode
from vouching.proofing import (
    advice,
    licence_check,
    licence_problems,
    licence_problems_by_field,
    passport_check,
    passport_in_date,
    passport_problems_by_field,
    recheck_by,
)
from vouching.scoring import Evidence, Scores, assess

TODAY = date(2026, 11, 23)
JANE = ClaimedPerson("Jane Elizabeth", "Smith", date(1985, 3, 12))


def _mrz(**changes):
    details = {
        "surname": "Smith",
        "given_names": "Jane Elizabeth",
        "document_number": "123456789",
        "birth_date": date(1985, 3, 12),
        "expiry_date": date(2031, 1, 1),
    } | changes
    return parse_td3(*format_td3(**details), today=TODAY)


@pytest.mark.parametrize(
    ("status", "evidence", "fraud_indicator"),
    [
        ("confirmed", Evidence("uk_passport", 4, 2), False),
        ("no_match", Evidence("uk_passport", 4, 0), False),
        ("lost_or_stolen", None, True),
        ("cancelled", None, True),
    ],
)
def test_a_passport_earns_what_its_authority_confirms(status, evidence, fraud_indicator):
    check = passport_check(_mrz(), JANE, DocumentAnswer(status, "test"), TODAY, truncated=False)
    assert (check.evidence, check.fraud_indicator) == (evidence, fraud_indicator)


@pytest.mark.parametrize(
    ("mrz", "problem"),
    [
        ({"expiry_date": date(2026, 11, 22)}, "expired"),
        ({"surname": "Jones"}, "name on the passport"),
        ({"given_names": "Janet"}, "name on the passport"),
        ({"birth_date": date(1985, 3, 13)}, "date of birth"),
    ],
)
def test_a_passport_that_is_not_about_the_person_earns_nothing(mrz, problem):
    check = passport_check(_mrz(**mrz), JANE, DocumentAnswer("confirmed", "test"), TODAY, truncated=False)
    assert check.evidence is None and any(problem in p for p in check.problems)


def test_a_truncated_mrz_name_matches_the_start_of_the_claimed_name():
    long = ClaimedPerson(
        "Alexandra Bartholomew Christabel Davina", "Featherstonehaugh-Smith", JANE.birth_date
    )
    mrz = _mrz(surname=long.family_name, given_names=long.given_names)
    assert mrz.given_names != normalise_name(long.given_names)  # cut short in the MRZ
    check = passport_check(mrz, long, DocumentAnswer("confirmed", "t"), TODAY, truncated=True)
    assert check.evidence == Evidence("uk_passport", 4, 2)


@pytest.mark.parametrize(
    ("number", "issued", "expires", "problem"),
    [
        ("SMITH853125JE9AB", date(2020, 5, 1), date(2030, 4, 30), None),
        ("SMITH853135JE9AB", date(2020, 5, 1), date(2030, 4, 30), "date of birth"),
        ("JONES853125JE9AB", date(2020, 5, 1), date(2030, 4, 30), "last name"),
        ("SMITH853125JX9AB", date(2020, 5, 1), date(2030, 4, 30), "initials"),
        ("SMITH853125JE9A", date(2020, 5, 1), date(2030, 4, 30), "format"),
        ("SMITH853125JE9AB", date(2027, 1, 1), date(2030, 4, 30), "future"),
        ("SMITH853125JE9AB", date(2016, 5, 1), date(2026, 4, 30), "expired"),
    ],
)
def test_driving_licence_checks(number, issued, expires, problem):
    check = licence_check(number, JANE, issued, expires, DocumentAnswer("confirmed", "t"), TODAY)
    if problem is None:
        assert check.evidence == Evidence("uk_driving_licence", 3, 2) and not check.problems
    else:
        assert check.evidence is None and any(problem in p for p in check.problems)


def test_a_passport_and_questions_meet_m1a_and_advice_names_what_is_missing():
    passport = Evidence("uk_passport", 4, 2)
    assert assess(Scores((passport,), 0, 1, 2)).profile == "M1A"
    short = assess(Scores((passport,), 0, 1, 1))
    assert short.level == "P1"
    assert advice(short.next_steps) == ["Answer the security questions about your own records correctly."]


@pytest.mark.parametrize(
    ("days", "score"), [(None, 0), (179, 0), (180, 1), (365, 2), (3 * 365, 3), (5 * 365, 4)]
)
def test_activity_history_scores(days, score):
    since = None if days is None else date.fromordinal(TODAY.toordinal() - days)
    assert activity_score(since, TODAY) == score


@pytest.mark.parametrize(
    ("correct", "asked", "score"),
    [(2, 2, 2), (3, 3, 2), (2, 3, 1), (1, 2, 1), (0, 2, 0), (1, 3, 0), (1, 1, 0)],
)
def test_knowledge_based_verification_scores(correct, asked, score):
    assert knowledge_score(correct, asked) == score


REGISTRY = {
    ("uk_passport", "123456789"): {
        "family_name": "SMITH",
        "given_names": "Jane Elizabeth",
        "birth_date": "1985-03-12",
        "expiry_date": "2031-01-01",
    },
    ("person", "SMITH|1985-03-12"): {
        "fraud": "clear",
        "active_since": "2022-06-01",
        "questions": [{"id": "q", "text": "?", "options": ["a", "b"], "answer": "b"}],
    },
    ("person", "JONES|1990-01-01"): {"fraud": "flagged"},
}
AUTHORITIES = simulated(lambda kind, ref: REGISTRY.get((kind, ref)))


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({}, "confirmed"),
        ({"number": "123456780"}, "no_match"),
        ({"given_names": "Jane"}, "no_match"),
        ({"expiry_date": date(2031, 1, 2)}, "no_match"),
    ],
)
def test_the_simulated_document_authority(changes, status):
    query = {
        "kind": "uk_passport",
        "number": "123456789",
        "family_name": "Smith",
        "given_names": "jane elizabeth",
        "birth_date": date(1985, 3, 12),
        "expiry_date": date(2031, 1, 1),
    } | changes
    assert AUTHORITIES.documents.check(DocumentQuery(**query)).status == status


def test_the_simulated_records_of_people():
    jones = ClaimedPerson("Tom", "Jones", date(1990, 1, 1))
    nobody = ClaimedPerson("No", "Body", date(1970, 1, 1))
    assert [AUTHORITIES.fraud.check(p).score for p in (JANE, jones, nobody)] == [2, 0, 1]
    assert AUTHORITIES.activity.check(JANE, TODAY).score == 3
    assert AUTHORITIES.activity.check(nobody, TODAY).score == 0
    assert [q.id for q in AUTHORITIES.knowledge.questions(JANE)] == ["q"]
    assert AUTHORITIES.knowledge.questions(nobody) == []


def test_names_and_postcodes_are_compared_as_documents_print_them():
    assert normalise_name("  Zoë O'Brien-Smith ") == "ZOE OBRIEN SMITH"
    assert normalise_postcode("sw1a2aa") == "SW1A 2AA"
    assert normalise_postcode("M1 1AE") == "M1 1AE"
    assert normalise_postcode("12345") is None


def test_recheck_comes_at_the_first_document_expiry_or_three_years_on():
    assert recheck_by(TODAY, []) == date(2029, 11, 22)
    assert recheck_by(TODAY, [date(2027, 6, 1)]) == date(2027, 6, 1)


@pytest.mark.parametrize(
    ("number", "issued", "expires", "fields"),
    [
        ("SMITH853125JE9AB", date(2020, 5, 1), date(2030, 4, 30), []),
        ("SMITH853135JE9AB", date(2020, 5, 1), date(2030, 4, 30), ["licence_number"]),
        ("JONES853125JE9AB", date(2020, 5, 1), date(2030, 4, 30), ["licence_number"]),
        ("SMITH853125JX9AB", date(2020, 5, 1), date(2030, 4, 30), ["licence_number"]),
        ("SMITH853125JE9A", date(2020, 5, 1), date(2030, 4, 30), ["licence_number"]),
        ("SMITH853125JE9AB", date(2027, 1, 1), date(2030, 4, 30), ["issue_date"]),
        ("SMITH853125JE9AB", date(2016, 5, 1), date(2026, 4, 30), ["expiry_date"]),
        (
            "SMITH853125JE9AB",
            date(2026, 12, 1),
            date(2026, 12, 1),
            ["issue_date", "expiry_date"],
        ),  # not after issue
        (
            "SMITH853125JE9AB",
            date(2027, 1, 1),
            date(2026, 4, 30),
            ["issue_date", "expiry_date", "expiry_date"],
        ),
    ],
)
def test_each_licence_problem_names_the_field_it_belongs_to(number, issued, expires, fields):
    found = licence_problems_by_field(number, JANE, issued, expires, TODAY)
    assert [p.field for p in found] == fields
    assert [p.words for p in found] == licence_problems(number, JANE, issued, expires, TODAY)


def test_each_passport_problem_names_the_field_of_the_photo_page_it_is_about():
    mrz = _mrz(surname="JONES", expiry_date=date(2020, 1, 1), birth_date=date(1985, 3, 13))
    found = passport_problems_by_field(mrz, JANE, TODAY, truncated=False)
    assert [p.field for p in found] == ["expiry_date", "family_name", "birth_date"]
    foreign = PassportDetails("123456789", "Smith", "Jane Elizabeth", JANE.birth_date, date(2031, 1, 1), "FRA")
    assert [p.field for p in passport_problems_by_field(foreign, JANE, TODAY, truncated=False)] == [
        "passport_number"
    ]


@pytest.mark.parametrize(
    ("expiry", "in_date"),
    [(TODAY, True), (date(2026, 11, 22), False), (date(2031, 1, 1), True)],
)
def test_a_passport_counts_up_to_and_including_its_expiry_day(expiry, in_date):
    assert passport_in_date(expiry, TODAY) is in_date


def test_typed_passport_details_are_checked_as_the_machine_readable_zone_is():
    typed = PassportDetails("123456789", "Smith", "Jane Elizabeth", JANE.birth_date, date(2031, 1, 1))
    answer = DocumentAnswer("confirmed", "test")
    from_typed = passport_check(typed, JANE, answer, TODAY, truncated=False)
    from_reader = passport_check(_mrz().details(), JANE, answer, TODAY, truncated=False)
    assert from_typed == from_reader == passport_check(_mrz(), JANE, answer, TODAY, truncated=False)
    assert from_typed.evidence == Evidence("uk_passport", 4, 2)
