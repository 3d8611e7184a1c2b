"""The language of the request being served (English or Welsh), and its message catalogue.

The web layer sets the language for each request (``broker.web.i18n.LanguageMiddleware``); anything
that chooses words for a person reads it here, below the web layer: the pages, the errors, and the
messages we send. ``_`` looks a message up in ``broker/web/locales/<language>/LC_MESSAGES/messages.po``.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from vouching.text import Filled

LANGUAGES = ("en", "cy")
DEFAULT = "en"

LOCALES = Path(__file__).parent / "web" / "locales"
# The cookie that remembers a person's choice, and the paths that are in English whatever they chose
# (the staff console and the development outbox).
COOKIE = "lang"
ENGLISH_ONLY = ("/admin", "/dev/")

language: ContextVar[str] = ContextVar("language", default=DEFAULT)


def current_language() -> str:
    return language.get()


def choose_language(query_lang: str | None, ui_locales: str | None, cookie_lang: str | None) -> str:
    """The toggle wins, then the relying service's ``ui_locales`` (first supported), then the cookie."""
    if query_lang in LANGUAGES:
        return query_lang
    for tag in (ui_locales or "").split():
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    if cookie_lang in LANGUAGES:
        return cookie_lang
    return DEFAULT


def N_(message: str) -> str:
    """Marks text for the catalogue where it is defined; it is translated where it is shown."""
    return message


@cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The compiled catalogue for a language, read once from its .po file (no build step)."""
    po = LOCALES / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT or not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        messages = read_po(handle, locale=language)
    compiled = BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return Translations(fp=compiled)


def _(message: str, **values: Any) -> str:
    """``message`` in this request's language, with ``%(name)s`` placeholders filled from ``values``.

    A :class:`~vouching.text.Filled` text (English already filled in by a layer below the web) is
    looked up by its message and filled again with its values.
    """
    if isinstance(message, Filled) and not values:
        values = message.values
        message = message.message
    text = catalogue(language.get()).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    text = catalogue(language.get()).ngettext(singular, plural, n)
    return text % {"num": n, **values}
