"""Who a person says they are: the claimed identity every check is made against (pure)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Address:
    building: str  # number or name
    street: str
    town: str
    postcode: str
    lived_from: date  # when the person started living there
    lived_until: date | None = None  # None: they live there now

    def as_dict(self) -> dict[str, str | None]:
        return {
            "building": self.building,
            "street": self.street,
            "town": self.town,
            "postcode": self.postcode,
            "lived_from": self.lived_from.isoformat(),
            "lived_until": self.lived_until.isoformat() if self.lived_until else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, str | None]) -> Address:
        until = data.get("lived_until")
        return cls(
            building=data["building"] or "",
            street=data["street"] or "",
            town=data["town"] or "",
            postcode=data["postcode"] or "",
            lived_from=date.fromisoformat(data["lived_from"] or ""),
            lived_until=date.fromisoformat(until) if until else None,
        )


@dataclass(frozen=True)
class ClaimedPerson:
    given_names: str
    family_name: str
    birth_date: date


POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")


def normalise_name(name: str) -> str:
    """Names compared as a document prints them: accents dropped, upper case, hyphens and apostrophes
    as spaces (ICAO 9303 part 3 §6 transliterates them so), runs of spaces as one."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    plain = re.sub(r"['’]", "", plain.upper())
    return " ".join(re.sub(r"[^A-Z]+", " ", plain).split())


def normalise_building(building: str) -> str:
    """A building number or name as one compares them: letters and digits only, upper case, accents
    dropped. "10a", "10 A" and "10-A" are one building; "12" and "14" are two."""
    plain = unicodedata.normalize("NFKD", building).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]+", "", plain.upper())


def normalise_postcode(postcode: str) -> str | None:
    """A UK postcode in its printed form (``SW1A 2AA``), or None when it is not one."""
    compact = re.sub(r"\s+", "", postcode.upper())
    if not POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


def age_on(birth_date: date, today: date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
