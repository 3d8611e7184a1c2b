"""Document checks (pure): a passport's details as a person reads them off its photo page, the ICAO
9303 TD3 machine-readable zone a document reader supplies instead, the UK photocard driving licence
number, a document's keyed fingerprint and its masked number."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 3, 1)
MRZ_CHARS = re.compile(r"^[A-Z0-9<]{44}$")
# A UK passport's number, as printed at the top right of the photo page.
UK_PASSPORT_NUMBER = re.compile(r"^[0-9]{9}$")


class DocumentInvalid(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def check_digit(text: str) -> str:
    """ICAO 9303 part 3 §4.9: weights 7, 3, 1; digits as themselves, A–Z as 10–35, < as 0."""
    total = 0
    for i, char in enumerate(text):
        value = 0 if char == "<" else int(char) if char.isdigit() else ord(char) - 55
        total += value * WEIGHTS[i % 3]
    return str(total % 10)


def passport_number(typed: str) -> str | None:
    """A UK passport number as a person types it (spaces allowed), or None when it is not 9 digits."""
    number = "".join(typed.split())
    return number if UK_PASSPORT_NUMBER.match(number) and number.isascii() else None


@dataclass(frozen=True)
class PassportDetails:
    """What a passport's photo page says about its holder and itself: what a person types, or what a
    document reader takes from the machine-readable zone (:meth:`PassportMrz.details`)."""

    document_number: str
    surname: str
    given_names: str
    birth_date: date
    expiry_date: date
    issuing_state: str = "GBR"  # the pages ask only for UK passports


@dataclass(frozen=True)
class PassportMrz:
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: date
    sex: str
    expiry_date: date
    personal_number: str

    def details(self) -> PassportDetails:
        return PassportDetails(
            self.document_number,
            self.surname,
            self.given_names,
            self.birth_date,
            self.expiry_date,
            self.issuing_state,
        )


def _date(yymmdd: str, field: str, *, birth: bool, today: date) -> date:
    try:
        yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
        century = 1900 if birth and yy > today.year % 100 else 2000
        return date(century + yy, mm, dd)
    except ValueError:
        raise DocumentInvalid(field, "not a date") from None


def parse_td3(line1: str, line2: str, *, today: date) -> PassportMrz:
    """Both lines of a passport's MRZ, every check digit verified."""
    line1, line2 = line1.strip().upper(), line2.strip().upper()
    for n, line in ((1, line1), (2, line2)):
        if not MRZ_CHARS.match(line):
            raise DocumentInvalid(f"line{n}", "must be 44 characters of A-Z, 0-9 and <")
    if line1[0] != "P":
        raise DocumentInvalid("document_type", "not a passport")
    checks = (
        ("document_number", line2[0:9], line2[9]),
        ("birth_date", line2[13:19], line2[19]),
        ("expiry_date", line2[21:27], line2[27]),
        ("personal_number", line2[28:42], line2[42]),
        ("composite", line2[0:10] + line2[13:20] + line2[21:43], line2[43]),
    )
    for field, data, digit in checks:
        if field == "personal_number" and digit == "<" and set(data) == {"<"}:
            continue
        if check_digit(data) != digit:
            raise DocumentInvalid(field, "check digit does not match")
    names = line1[5:].split("<<", 1)
    return PassportMrz(
        issuing_state=line1[2:5].replace("<", ""),
        surname=names[0].replace("<", " ").strip(),
        given_names=(names[1] if len(names) > 1 else "").replace("<", " ").strip(),
        document_number=line2[0:9].replace("<", ""),
        nationality=line2[10:13].replace("<", ""),
        birth_date=_date(line2[13:19], "birth_date", birth=True, today=today),
        sex=line2[20],
        expiry_date=_date(line2[21:27], "expiry_date", birth=False, today=today),
        personal_number=line2[28:42].replace("<", ""),
    )


def _mrz_name(text: str) -> str:
    return "<".join(re.sub(r"[^A-Z ]", " ", text.upper()).split())


def format_td3(
    *,
    surname: str,
    given_names: str,
    document_number: str,
    birth_date: date,
    expiry_date: date,
    sex: str = "<",
    issuing_state: str = "GBR",
    nationality: str = "GBR",
) -> tuple[str, str]:
    """The two MRZ lines a passport with these details carries (specimens for demos and tests)."""
    name = f"{_mrz_name(surname)}<<{_mrz_name(given_names)}"
    line1 = f"P<{issuing_state:<<3}{name}".ljust(44, "<")[:44]
    number = document_number.upper().ljust(9, "<")
    born, expires = birth_date.strftime("%y%m%d"), expiry_date.strftime("%y%m%d")
    personal = "<" * 14
    line2 = (
        f"{number}{check_digit(number)}{nationality:<<3}{born}{check_digit(born)}{sex}"
        f"{expires}{check_digit(expires)}{personal}<"
    )
    return line1, line2 + check_digit(line2[0:10] + line2[13:20] + line2[21:43])


DRIVER_NUMBER = re.compile(r"^[A-Z9]{5}\d{6}[A-Z9]{2}\d[A-Z0-9]{2}$")


def driver_number_problems(number: str, *, surname: str, given_names: str, birth_date: date) -> list[str]:
    """A UK photocard licence's 16-character driver number against the claimed identity (DVLA's layout:
    surname ×5, decade, month (+50 female), day, year digit, initials ×2, a digit, two check characters).
    Returns the fields that do not match; empty when it is consistent."""
    number = number.replace(" ", "").upper()
    if not DRIVER_NUMBER.match(number):
        return ["format"]
    problems = []
    letters = re.sub(r"[^A-Z]", "", surname.upper())
    if letters.startswith("MAC"):  # DVLA encodes Mac as Mc
        letters = "MC" + letters[3:]
    if number[0:5] != (letters[:5] + "99999")[:5]:
        problems.append("surname")
    month = int(number[6:8])
    if month > 50:
        month -= 50  # the female encoding
    if (
        (number[5], number[10]) != (str(birth_date.year)[2], str(birth_date.year)[3])
        or month != birth_date.month
        or int(number[8:10]) != birth_date.day
    ):
        problems.append("birth_date")
    initials = "".join(part[0] for part in re.findall(r"[A-Z]+", given_names.upper()))[:2]
    if number[11:13] != (initials + "99")[:2]:
        problems.append("initials")
    return problems


MASK = "*"


def canonical_number(number: str) -> str:
    """A document number as it is compared: spaces and MRZ fillers dropped, upper case."""
    return re.sub(r"[\s<]", "", number).upper()


def fingerprint(key: bytes, kind: str, number: str) -> str:
    """A document as a keyed hash (HMAC-SHA256) of its kind and number: the same document always gives
    the same value, so one document cannot prove two accounts, but without the key (derived in keys/)
    nobody can try every passport number to find whose it was. Spaces and MRZ fillers do not count."""
    if not key:
        raise ValueError("a document fingerprint needs a key")
    canonical = kind + ":" + canonical_number(number)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def mask_number(number: str) -> str:
    """What is kept of a document number once it is checked: its last three characters at most (fewer
    for a short number, never more than a third of it), the rest as ``*``, so a person can tell which of
    their documents it was and nobody can use it. Masking a masked number changes nothing."""
    plain = canonical_number(number)
    shown = min(3, len(plain) // 3)
    return MASK * (len(plain) - shown) + plain[len(plain) - shown :]


def is_masked(number: str) -> bool:
    return MASK in number
