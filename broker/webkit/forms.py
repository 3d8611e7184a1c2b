"""Every page form's text, bounded before any page reads it: one guard, one table of fields.

:func:`check_form` is a dependency of every page router (``broker.webkit.router``), so it runs before
the anti-forgery check, the session check and the page. It reads the url-encoded body itself, strictly
(UTF-8, percent-encoded as a browser sends it), and refuses with a 400 error page and a GOV.UK error
summary naming each field:

- a body that is not UTF-8, or a multipart body (no page form is sent so);
- a control character such as a NUL byte in any field (PostgreSQL refuses NUL in text: a 500);
- text longer than the column that stores it (``FIELDS``, read from the models), or than a general
  cap for text with no column of its own (``broker.store.bounds``);
- digits of another script where a number is expected (``int('١٢٣')`` is 123).

A field whose answer is one of the page's own choices (``CHOICES``) is left to the page's message.

Pages keep their own, friendlier checks of what an answer means (an email address, a date, a
password's strength); this guard only makes sure that what reaches them, and the database, fits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl

from fastapi import Request

from broker.errors import PageError
from broker.language import N_
from broker.policy.mou import DPO_FIELDS
from broker.store.bounds import (
    ADDRESS_LINE,
    FREE_TEXT,
    SHORT_TEXT,
    Problem,
    column_length,
    number_problem,
    text_problem,
)
from broker.store.models import Account, Client, MouVersion, Passkey, Vouch, VouchRequest
from vouching.text import Filled

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# More fields than any page has, with room to spare: parse_qsl stops reading past this.
MAX_FIELDS = 200

# Each field a page form sends, by its name, and the most characters it may hold: the length of the
# column that stores it, or a cap for text kept in JSON or not kept as typed. A field not named here
# is held to SHORT_TEXT.
FIELDS: dict[str, int] = {
    "email": column_length(Account.email),
    **dict.fromkeys(("email1", "email2", "email3"), column_length(Vouch.invited_email)),
    "phone": column_length(Account.phone_number),
    "name": column_length(Passkey.name),
    "given_names": column_length(VouchRequest.given_names),
    "family_name": column_length(VouchRequest.family_name),
    **dict.fromkeys(("building", "street", "town", "postcode"), ADDRESS_LINE),
    "note": column_length(Vouch.review_note),
    "organisation": column_length(MouVersion.organisation),
    "lawful_basis": column_length(MouVersion.lawful_basis),
    "purpose": column_length(MouVersion.purpose),
    "security_commitments": column_length(MouVersion.security_commitments),
    "contacts": column_length(MouVersion.contacts),
    "organisation_cy": column_length(MouVersion.organisation_cy),
    "lawful_basis_cy": column_length(MouVersion.lawful_basis_cy),
    "purpose_cy": column_length(MouVersion.purpose_cy),
    **{name: column_length(getattr(MouVersion, name)) for name in DPO_FIELDS},
    "attributes": FREE_TEXT,  # kept in JSON, one line per claim
    "sector_identifier": column_length(Client.sector_identifier),
    "backchannel_logout_uri": column_length(Client.backchannel_logout_uri),
    "security_event_uri": column_length(Client.security_event_uri),
    "jwks_uri": column_length(Client.jwks_uri),
    "landing_page_url": column_length(Client.landing_page_url),
    # Kept in JSON: a list of URIs, a key set, a list of claims.
    **dict.fromkeys(("redirect_uris", "post_logout_redirect_uris", "jwks", "claims"), FREE_TEXT),
}
# Where one name means another column on one page.
PAGE_FIELDS: dict[str, dict[str, int]] = {
    "/admin/services/new": {"name": column_length(Client.name)},
    "/admin/services/{client_id}": {"name": column_length(Client.name)},
}
# Fields whose answer is one of a page's own few choices: the page compares it with them, and says in
# its own words which to choose (a NUL byte or a long answer is just not one of them). What is typed
# there never reaches the database.
CHOICES = frozenset(
    {
        "decision",
        "confirm",
        "share",
        "lives_with",
        "confirm_details",
        "acknowledge",
        "relationship",
        "method",
        "document",
        "confirmed",  # a check-your-answers page's "confirm"
        "change",  # and its "Change", naming the field to change
    }
)
# Fields that hold a number: security codes, a passport number, and each part of a date or a year.
NUMBERS = frozenset({"code", "lived_from", "known_years", "passport_number"})
DATE_PARTS = ("-day", "-month", "-year")

MESSAGES: dict[Problem, str] = {
    Problem.CONTROL: N_("Remove the control characters from this answer"),
    Problem.TOO_LONG: N_("This answer must be %(limit)s characters or fewer"),
    Problem.NOT_ASCII_DIGITS: N_("Enter numbers using the digits 0 to 9"),
}


class FormRefused(PageError):
    """Text that does not fit: a 400 error page whose summary names each field (``fields``)."""

    title = N_("There is a problem")

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(N_("Go back, correct the answers named here, and send the form again."))
        self.fields = fields


class FormUnreadable(PageError):
    title = N_("Your form could not be read")


def is_number(name: str) -> bool:
    return name in NUMBERS or name.endswith(DATE_PARTS)


def field_problem(name: str, value: str, limits: Mapping[str, int]) -> str | None:
    """The message for ``value`` in field ``name`` (pure), or None when it fits."""
    if name in CHOICES:
        return None
    problem = number_problem(value) if is_number(name) else None
    limit = limits.get(name, SHORT_TEXT)
    problem = problem or text_problem(value, limit)
    if problem is None:
        return None
    if problem is Problem.TOO_LONG:
        return Filled(MESSAGES[problem], limit=limit)
    return MESSAGES[problem]


def form_problems(pairs: Iterable[tuple[str, str]], path: str) -> dict[str, str]:
    """Each field of a form posted to the page route ``path`` that does not fit, with why (pure)."""
    limits = {**FIELDS, **PAGE_FIELDS.get(path, {})}
    problems: dict[str, str] = {}
    for name, value in pairs:
        found = text_problem(name, SHORT_TEXT) or field_problem(name, value, limits)
        if found and name not in problems:
            # A field's name with a control character in it is shown without it.
            problems["".join(ch for ch in name if ch.isprintable())[:80] or "form"] = found
    return problems


def read_strictly(body: bytes) -> list[tuple[str, str]]:
    """A url-encoded body's fields: every byte ASCII, every percent-encoded sequence UTF-8.

    Starlette reads a raw or mis-encoded byte as Latin-1 and an invalid sequence as U+FFFD, so a
    page would be given text nobody typed; here both are refused (:class:`FormUnreadable`)."""
    try:
        return parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise FormUnreadable(N_("Go back, reload the page and try again.")) from None


async def check_form(request: Request) -> None:
    """A dependency of every page router: refuse a page form whose text does not fit (see above)."""
    if request.method != "POST":
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == MULTIPART:
        raise FormUnreadable(N_("Go back, reload the page and try again."))
    if content_type != URLENCODED:
        return  # a page script's JSON (passkeys) is read, and checked, by its page
    problems = form_problems(read_strictly(await request.body()), request.scope["route"].path)
    if problems:
        raise FormRefused(problems)
