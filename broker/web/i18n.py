"""English and Welsh: which language this request is in, and the message catalogues.

Pages are written in English; every piece of text a person reads goes through ``_`` (Python at request
time, and templates) so that it can be looked up in ``broker/web/locales/cy/LC_MESSAGES/messages.po``.
Text defined at import time (field labels, step titles) is marked with ``N_`` and translated where it
is shown. The language is chosen, in this order, by a ``lang`` query parameter (the language toggle),
by ``ui_locales`` on an authorization request, and by the ``lang`` cookie that either of those sets,
so a choice is remembered; otherwise English.
"""

from __future__ import annotations

from datetime import date, datetime
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from babel.dates import format_date, format_datetime
from markupsafe import Markup
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker.language import (
    COOKIE,
    DEFAULT,
    ENGLISH_ONLY,
    LANGUAGES,
    N_,
    _,
    catalogue,
    choose_language,
    current_language,
    language,
    ngettext,
)
from vouching.levels import CHECKED_TO, LEVEL_WORDS
from vouching.text import Filled

COOKIE_MAX_AGE = 365 * 24 * 3600
_language = language
# The pages import the catalogue's functions from here, beside the rest of the web's language kit.
__all__ = ["N_", "_", "choose_language", "current_language", "install", "language_link", "ngettext"]


def language_link(path: str, query: str, language: str) -> str:
    """The same page in another language: the path and query with ``lang`` replaced."""
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "lang"]
    return f"{path}?{urlencode([*params, ('lang', language)])}"


class LanguageMiddleware:
    """Pure ASGI: sets the request's language, and remembers a new choice in the ``lang`` cookie."""

    def __init__(self, app: ASGIApp, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(ENGLISH_ONLY):
            token = _language.set(DEFAULT)
            try:
                await self.app(scope, receive, send)
            finally:
                _language.reset(token)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        cookie_lang = _cookie(scope, COOKIE)
        ui_locales = query.get("ui_locales") if scope["path"] == "/authorize" else None
        language = choose_language(query.get("lang"), ui_locales, cookie_lang)
        token = _language.set(language)
        remember = language != (cookie_lang if cookie_lang in LANGUAGES else DEFAULT)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and remember:
                attributes = f"Path=/; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax; HttpOnly"
                if self.secure:
                    attributes += "; Secure"
                headers = list(message.get("headers", []))
                headers.append((b"set-cookie", f"{COOKIE}={language}; {attributes}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            _language.reset(token)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:  # a malformed Cookie header is no reason to fail the page
                return None
            if name in jar:
                return jar[name].value
    return None


def long_date(value: date | datetime) -> str:
    """23 November 2026 / 23 Tachwedd 2026, as GOV.UK writes dates."""
    return format_date(value, "d MMMM y", locale=_language.get())


def long_datetime(value: datetime) -> str:
    """23 November 2026 at 18:40 / 23 Tachwedd 2026 am 18:40."""
    return _("%(date)s at %(time)s", date=long_date(value), time=format_datetime(value, "HH:mm", locale="en"))


def _template_gettext(message: str, **values: Any) -> str:
    """``_`` in templates: plain text (escaped on output) or, with values, escaped text filled in.

    Jinja's own "newstyle" gettext marks every translation as safe markup and always applies ``%``,
    which would let text that carries what a person typed through unescaped, and fail on a ``%``.
    """
    if isinstance(message, Filled) and not values:
        values = message.values
        message = message.message
    text = catalogue(_language.get()).gettext(message)
    return Markup.escape(text) % values if values else text


def _template_ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    text = catalogue(_language.get()).ngettext(singular, plural, n)
    return Markup.escape(text) % {"num": n, **values}


def level_words(level: str) -> str:
    """An identity level as a person reads it ("medium"), never its code ("P2")."""
    return _template_gettext(LEVEL_WORDS[level])


def checked_to(level: str) -> str:
    """The sentence for a level ("Your identity is checked to a medium level") in the page's language."""
    return _template_gettext(CHECKED_TO[level])


def upper_first(text: str) -> str:
    """A sentence's first letter in capitals, the rest as written ("UK passport", not "Uk passport")."""
    return text[:1].upper() + text[1:]


def install(env: Any) -> None:
    """``_``, ``ngettext``, ``current_language`` and the date filters in every template."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext=_template_gettext, ngettext=_template_ngettext, newstyle=False)
    env.globals["current_language"] = current_language
    env.globals["language_link"] = language_link
    env.globals["english_only"] = ENGLISH_ONLY
    env.filters["long_date"] = long_date
    env.filters["upper_first"] = upper_first
    env.filters["level_words"] = level_words
    env.filters["checked_to"] = checked_to
    env.filters["long_datetime"] = long_datetime
