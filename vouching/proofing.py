"""What a document earns (pure): the checks made on it become GPG 45 evidence scores.

A document counts only when it is well formed, in date and about the person claiming it. Then:

| document            | strength | validity: authority confirms | authority has no match |
|---------------------|----------|------------------------------|------------------------|
| UK passport         | 4        | 2                            | 0                      |
| UK driving licence  | 3        | 2                            | 0                      |

Validity 3 needs the passport chip's signature checked, which a web journey cannot do, so P3 (H1A)
stays out of reach here, as in One Login's web route. A document the authority reports lost, stolen
or cancelled earns nothing and marks the attempt for fraud (score 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from vouching.authorities import DocumentAnswer
from vouching.documents import PassportDetails, PassportMrz, driver_number_problems
from vouching.person import ClaimedPerson, normalise_name
from vouching.scoring import Evidence
from vouching.text import N_

RECHECK_AFTER = timedelta(days=3 * 365)  # a proven identity is re-checked at least this often

STRENGTH = {"uk_passport": 4, "uk_driving_licence": 3}
# What the authority's answer means, a whole sentence for each kind of document (shown on the pages).
NO_MATCH = {
    "uk_passport": N_("the passport office has no record that matches these details"),
    "uk_driving_licence": N_("the driving licence agency has no record that matches these details"),
}
CANNOT_USE = {
    "uk_passport": N_("the passport office says this document cannot be used"),
    "uk_driving_licence": N_("the driving licence agency says this document cannot be used"),
}
# A document that already proved an identity on another account proves nothing here: one document,
# one account (otherwise one person could hold several proven accounts and vouch as several people).
IN_USE = {
    "uk_passport": N_("this passport has already been used to prove an identity on another account"),
    "uk_driving_licence": N_(
        "this driving licence has already been used to prove an identity on another account"
    ),
}


@dataclass(frozen=True)
class DocumentCheck:
    kind: str
    evidence: Evidence | None  # None when the document cannot count at all
    checks: tuple[str, ...]  # the checks that passed, by name
    problems: tuple[str, ...]  # what failed, in words a page can show
    fraud_indicator: bool = False  # the authority reported the document lost, stolen or cancelled


def _names_match(document_given: str, document_family: str, claim: ClaimedPerson, truncated: bool) -> bool:
    given, family = normalise_name(claim.given_names), normalise_name(claim.family_name)
    doc_given, doc_family = normalise_name(document_given), normalise_name(document_family)
    if truncated:  # an MRZ cuts long names short: what is printed must start what was claimed
        return (family + " " + given).startswith((doc_family + " " + doc_given).strip())
    return doc_given == given and doc_family == family


def _scored(
    kind: str, checks: list[str], problems: list[str], answer: DocumentAnswer | None
) -> DocumentCheck:
    if problems or answer is None:
        return DocumentCheck(kind, None, tuple(checks), tuple(problems))
    if answer.status == "confirmed":
        return DocumentCheck(kind, Evidence(kind, STRENGTH[kind], 2), (*checks, "authority_confirmed"), ())
    if answer.status == "no_match":
        return DocumentCheck(kind, Evidence(kind, STRENGTH[kind], 0), tuple(checks), (NO_MATCH[kind],))
    return DocumentCheck(kind, None, tuple(checks), (CANNOT_USE[kind],), fraud_indicator=True)


def passport_in_date(expiry_date: date, today: date) -> bool:
    """A passport counts up to and including the day it expires."""
    return expiry_date >= today


def passport_problems(
    passport: PassportDetails | PassportMrz, claim: ClaimedPerson, today: date, *, truncated: bool
) -> list[str]:
    return [p.words for p in passport_problems_by_field(passport, claim, today, truncated=truncated)]


def passport_check(
    passport: PassportDetails | PassportMrz,
    claim: ClaimedPerson,
    answer: DocumentAnswer | None,
    today: date,
    *,
    truncated: bool,
) -> DocumentCheck:
    """``answer`` is the authority's, or None when it was not asked because the document failed already.
    ``truncated``: the details came from a machine-readable zone whose name line was cut short."""
    problems = passport_problems(passport, claim, today, truncated=truncated)
    return _scored("uk_passport", ["check_digits", "in_date", "matches_claim"], problems, answer)


@dataclass(frozen=True)
class Problem:
    """What is wrong with a document as entered, and the part of it the problem is in (its form
    field: ``passport_number``, ``licence_number``, ``issue_date``, ``expiry_date``, a name or the
    date of birth)."""

    field: str
    words: str


def passport_problems_by_field(
    passport: PassportDetails | PassportMrz, claim: ClaimedPerson, today: date, *, truncated: bool
) -> list[Problem]:
    """Each passport problem beside the field of the passport page it is about."""
    problems = []
    if passport.issuing_state != "GBR":
        problems.append(Problem("passport_number", N_("this is not a UK passport")))
    if not passport_in_date(passport.expiry_date, today):
        problems.append(Problem("expiry_date", N_("the passport has expired")))
    if not _names_match(passport.given_names, passport.surname, claim, truncated):
        problems.append(
            Problem("family_name", N_("the name on the passport does not match the name you gave"))
        )
    if passport.birth_date != claim.birth_date:
        problems.append(
            Problem("birth_date", N_("the date of birth on the passport does not match the one you gave"))
        )
    return problems


def licence_problems_by_field(
    number: str, claim: ClaimedPerson, issue_date: date, expiry_date: date, today: date
) -> list[Problem]:
    words = {
        "format": N_("the licence number is not in the right format"),
        "surname": N_("the licence number does not match your last name"),
        "birth_date": N_("the licence number does not match your date of birth"),
        "initials": N_("the licence number does not match your initials"),
    }
    found = driver_number_problems(
        number, surname=claim.family_name, given_names=claim.given_names, birth_date=claim.birth_date
    )
    problems = [Problem("licence_number", words[p]) for p in found]
    if issue_date > today:
        problems.append(Problem("issue_date", N_("the issue date is in the future")))
    if expiry_date < today:
        problems.append(Problem("expiry_date", N_("the licence has expired")))
    if expiry_date <= issue_date:
        problems.append(Problem("expiry_date", N_("the expiry date must be after the issue date")))
    return problems


def licence_problems(
    number: str, claim: ClaimedPerson, issue_date: date, expiry_date: date, today: date
) -> list[str]:
    return [p.words for p in licence_problems_by_field(number, claim, issue_date, expiry_date, today)]


def licence_check(
    number: str,
    claim: ClaimedPerson,
    issue_date: date,
    expiry_date: date,
    answer: DocumentAnswer | None,
    today: date,
) -> DocumentCheck:
    problems = licence_problems(number, claim, issue_date, expiry_date, today)
    return _scored("uk_driving_licence", ["driver_number", "in_date", "matches_claim"], problems, answer)


def recheck_by(checked_on: date, document_expiries: list[date]) -> date:
    """When a proven identity must be checked again: the first document expiry, or three years on."""
    return min([checked_on + RECHECK_AFTER, *document_expiries])


def advice(next_steps: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    """What would raise the level, in plain words, from the nearest profile's gaps."""
    if not next_steps:
        return []
    words = []
    for gap in next_steps[0][1]:
        if "evidence" in gap:
            words.append(
                N_(
                    "Use a UK passport or photocard driving licence whose details the issuing office can confirm."
                )
            )
        elif "activity" in gap:
            words.append(
                N_("We need a longer history of your identity being used, such as a bank account or bills.")
            )
        elif "fraud" in gap:
            words.append(N_("A check of fraud records did not pass. Contact us to find out what you can do."))
        elif "verification" in gap:
            words.append(N_("Answer the security questions about your own records correctly."))
    return list(dict.fromkeys(words))
