"""What the demo service shows: GOV.UK Frontend pages that explain each claim it received, and the
integration guide (docs/integrating.md) rendered as HTML. No protocol here: that is ``rp.py``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markdown_it.token import Token

TEMPLATES = Path(__file__).parent / "templates"
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integrating.md"
VOCAB = "https://vocab.account.gov.uk/v1/"
TIMES = {"exp", "iat", "auth_time", "nbf"}

# What each claim of the ID token tells a service, and what the service should do with it.
CLAIMS_EXPLAINED = {
    "iss": "Who issued the token: the broker. Check it is the issuer you expect.",
    "sub": "Who the person is, for this service only. Another service gets a different value for the "
    "same person (a pairwise subject), so services cannot link what they know. Keep it to recognise "
    "the person next time.",
    "aud": "Who the token is for: this service's client ID. Refuse a token made for another service.",
    "exp": "When the token stops being valid. Refuse it after this time.",
    "iat": "When the broker issued the token.",
    "auth_time": "When the person last signed in with their password.",
    "nonce": "The random value this service sent when it asked the person to sign in. Check it "
    "matches, so an old token cannot be used again.",
    "sid": "The person's session at the broker. When they sign out, the broker sends a logout "
    "token naming this session to the service's back-channel logout address.",
    "vot": "How the person signed in: Cl.Cm is a password and a security code, Cl a password only.",
    "vtm": "Where the meaning of the vot values is published.",
    "acr": "How strongly the person signed in, as a single value.",
    "amr": "The ways the person proved it was them: pwd is a password, otp a security code, hwk a passkey.",
    "at_hash": "A hash of the access token, which ties that token to this ID token.",
    "email": "The person's email address (released because they agreed to share it).",
    "email_verified": "Whether the broker has checked the person receives email at that address.",
    "phone_number": "The person's phone number (released because they agreed to share it).",
    "phone_number_verified": "Whether the broker has checked the person receives messages at that number.",
}
IDENTITY_EXPLAINED = {
    "vot": "The level to which the person's identity was checked: P2 is a medium level.",
    "name": "The person's name, as their identity check proved it.",
    "birthDate": "The person's date of birth, as their identity check proved it.",
    VOCAB + "address": "The person's address, as they gave it during their identity check.",
    VOCAB + "passport": "The passport the person used to prove their identity (its number is masked).",
}
# GOV.UK Frontend's classes for the HTML that markdown produces.
GOVUK_CLASSES = {
    "h1": "govuk-heading-l",
    "h2": "govuk-heading-m",
    "h3": "govuk-heading-s",
    "h4": "govuk-heading-s",
    "p": "govuk-body",
    "ul": "govuk-list govuk-list--bullet",
    "ol": "govuk-list govuk-list--number",
    "a": "govuk-link",
    "table": "govuk-table",
    "thead": "govuk-table__head",
    "tbody": "govuk-table__body",
    "tr": "govuk-table__row",
    "th": "govuk-table__header",
    "td": "govuk-table__cell",
}

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(template).render(**context), status_code=status)



def shown(value: Any, claim: str = "") -> str:
    """A claim's value as a person reads it: times also as a date, lists and objects as JSON."""
    if claim in TIMES and isinstance(value, int):
        return f"{value} ({datetime.fromtimestamp(value, UTC):%-d %B %Y, %H:%M:%S} UTC)"
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def explained(claims: dict[str, Any], meanings: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"claim": name, "value": shown(value, name), "meaning": meanings.get(name, "")}
        for name, value in claims.items()
    ]


def identity_rows(identity: dict[str, Any], userinfo: dict[str, Any]) -> list[dict[str, str]]:
    """The proven identity (from the verified identity JWT) and the other identity claims received."""
    rows = explained({k: identity[k] for k in ("vot", "name", "birthDate") if k in identity}, IDENTITY_EXPLAINED)
    others = {k: v for k, v in userinfo.items() if k.startswith(VOCAB) and k in IDENTITY_EXPLAINED}
    return rows + explained(others, IDENTITY_EXPLAINED)


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _styled(tokens: list[Token]) -> None:
    for token in tokens:
        if token.nesting == 1 and token.tag in GOVUK_CLASSES:
            token.attrSet("class", GOVUK_CLASSES[token.tag])
        if token.children:
            _styled(token.children)


def guide_html(path: Path = GUIDE) -> str | None:
    """The integration guide as HTML styled the GOV.UK way (raw HTML in the markdown is escaped)."""
    if not path.is_file():
        return None
    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = markdown.parse(path.read_text(encoding="utf-8"))
    _styled(tokens)
    return str(markdown.renderer.render(tokens, markdown.options, {}))
