"""Passport MRZ (ICAO 9303 TD3) and UK driving licence numbers: valid and corrupted inputs."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vouching.documents import (
    DocumentInvalid,
    check_digit,
    driver_number_problems,
    format_td3,
    is_masked,
    mask_number,
    parse_td3,
    passport_number,
)

TODAY = date(2026, 11, 23)
# ICAO 9303 part 4's specimen passport: check digits computed by ICAO, not by us.
ICAO_1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
ICAO_2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"


def uk_mrz(number="123456789", birth="850312", expiry="310101", sex="F") -> tuple[str, str]:
    line1 = ("P<GBRSMITH<<JANE<ELIZABETH" + "<" * 44)[:44]
    personal = "<" * 14
    body = f"{number}{check_digit(number)}GBR{birth}{check_digit(birth)}{sex}{expiry}{check_digit(expiry)}{personal}<"
    composite = check_digit(body[0:10] + body[13:20] + body[21:43])
    return line1, body + composite


def test_icao_specimen_parses_with_every_check_digit():
    mrz = parse_td3(ICAO_1, ICAO_2, today=TODAY)
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.document_number == "L898902C3" and mrz.nationality == "UTO"
    assert mrz.birth_date == date(1974, 8, 12) and mrz.expiry_date == date(2012, 4, 15) and mrz.sex == "F"
    assert mrz.personal_number == "ZE184226B"


def test_uk_passport():
    mrz = parse_td3(*uk_mrz(), today=TODAY)
    assert (mrz.issuing_state, mrz.surname, mrz.given_names) == ("GBR", "SMITH", "JANE ELIZABETH")
    assert mrz.birth_date == date(1985, 3, 12) and mrz.expiry_date == date(2031, 1, 1)


@pytest.mark.parametrize(
    ("position", "field"),
    [
        (9, "document_number"),
        (19, "birth_date"),
        (27, "expiry_date"),
        (42, "personal_number"),
        (43, "composite"),
    ],
)
def test_each_corrupted_check_digit_is_named(position, field):
    digit = ICAO_2[position]
    corrupted = ICAO_2[:position] + str((int(digit) + 1) % 10) + ICAO_2[position + 1 :]
    with pytest.raises(DocumentInvalid) as error:
        parse_td3(ICAO_1, corrupted, today=TODAY)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("position", "field"),
    [(2, "document_number"), (15, "birth_date"), (24, "expiry_date"), (30, "personal_number")],
)
def test_each_corrupted_field_is_caught(position, field):
    changed = "7" if ICAO_2[position] != "7" else "8"
    with pytest.raises(DocumentInvalid) as error:
        parse_td3(ICAO_1, ICAO_2[:position] + changed + ICAO_2[position + 1 :], today=TODAY)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("line1", "line2", "field"),
    [
        (ICAO_1[:-1], ICAO_2, "line1"),
        (ICAO_1, ICAO_2 + "<", "line2"),
        (ICAO_1, ICAO_2.lower().replace("<", "-"), "line2"),
        ("I" + ICAO_1[1:], ICAO_2, "document_type"),
    ],
)
def test_malformed_lines(line1, line2, field):
    with pytest.raises(DocumentInvalid) as error:
        parse_td3(line1, line2, today=TODAY)
    assert error.value.field == field


def test_impossible_date_with_a_valid_check_digit():
    line1, line2 = uk_mrz(birth="851332")
    with pytest.raises(DocumentInvalid) as error:
        parse_td3(line1, line2, today=TODAY)
    assert error.value.field == "birth_date"


# MORGA753116SM9IJ: DVLA's example layout — Sarah Meredyth Morgan, born 11 March 1976 (female: 03 + 50).
@pytest.mark.parametrize(
    ("number", "surname", "given", "born", "problems"),
    [
        ("MORGA753116SM9IJ", "Morgan", "Sarah Meredyth", date(1976, 3, 11), []),
        ("MORGA703116SM9IJ", "Morgan", "Sarah Meredyth", date(1976, 3, 11), []),  # male month encoding
        ("MORGA753116SM9IJ", "Morgen", "Sarah Meredyth", date(1976, 3, 11), ["surname"]),
        ("MORGA753116SM9IJ", "Morgan", "Sarah Meredyth", date(1976, 3, 12), ["birth_date"]),
        ("MORGA753116SM9IJ", "Morgan", "Sarah Meredyth", date(1966, 3, 11), ["birth_date"]),
        ("MORGA753116SM9IJ", "Morgan", "Sian Meredyth", date(1976, 3, 11), []),
        ("MORGA753116SM9IJ", "Morgan", "Sarah", date(1976, 3, 11), ["initials"]),
        ("LI999801015J99AB", "Li", "Jo", date(1985, 1, 1), []),  # short surname and one initial padded with 9
        ("MCDON701091JA9AB", "MacDonald", "James Andrew", date(1971, 1, 9), []),
        ("MORGA753116SM9I", "Morgan", "Sarah Meredyth", date(1976, 3, 11), ["format"]),
        ("M0RGA753116SM9IJ", "Morgan", "Sarah Meredyth", date(1976, 3, 11), ["format"]),
    ],
)
def test_driver_numbers(number, surname, given, born, problems):
    assert driver_number_problems(number, surname=surname, given_names=given, birth_date=born) == problems


@given(
    surname=st.from_regex(r"[A-Z]{1,12}", fullmatch=True),
    given=st.from_regex(r"[A-Z]{1,10}( [A-Z]{1,10})?", fullmatch=True),
    number=st.from_regex(r"[0-9A-Z]{9}", fullmatch=True),
    born=st.dates(date(1930, 1, 1), date(2020, 12, 31)),
    expires=st.dates(date(2027, 1, 1), date(2069, 12, 31)),
)
def test_a_formatted_mrz_parses_back_to_its_details(surname, given, number, born, expires):
    mrz = parse_td3(
        *format_td3(
            surname=surname, given_names=given, document_number=number, birth_date=born, expiry_date=expires
        ),
        today=TODAY,
    )
    assert (mrz.surname, mrz.given_names, mrz.document_number) == (surname, given, number)
    assert (mrz.birth_date, mrz.expiry_date) == (born, expires)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("123456789", "******789"),  # a passport: the last three
        ("1234 56789<", "******789"),  # spaces and MRZ fillers are not part of it
        ("smith853125je9ab", "*************9AB"),  # a driving licence
        ("12345", "****5"),  # short: never more than a third shown
        ("12", "**"),
        ("", ""),
    ],
)
def test_a_masked_number_shows_its_last_characters_at_most(number, masked):
    assert mask_number(number) == masked and (is_masked(masked) or masked == "")


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789< ", max_size=30))
def test_masking_shows_at_most_three_characters_and_masking_again_changes_nothing(number):
    masked = mask_number(number)
    assert len(masked.replace("*", "")) <= min(3, len(masked) // 3)
    assert mask_number(masked) == masked


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("123456789", "123456789"),
        (" 123 456 789 ", "123456789"),
        ("12345678", None),
        ("1234567890", None),
        ("12345678A", None),
        ("", None),
        ("١٢٣٤٥٦٧٨٩", None),  # other scripts' digits are not a passport number
    ],
)
def test_a_uk_passport_number_is_nine_digits_as_printed(typed, number):
    assert passport_number(typed) == number


def test_a_reader_s_machine_readable_zone_gives_the_details_a_person_would_type():
    details = parse_td3(*uk_mrz(), today=TODAY).details()
    assert (details.document_number, details.surname, details.given_names) == (
        "123456789",
        "SMITH",
        "JANE ELIZABETH",
    )
    assert (details.birth_date, details.expiry_date, details.issuing_state) == (
        date(1985, 3, 12),
        date(2031, 1, 1),
        "GBR",
    )
