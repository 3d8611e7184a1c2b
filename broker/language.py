"""The language of the request being served (English or Welsh).

The web layer sets it for each request (``broker.web.i18n.LanguageMiddleware``); anything that chooses
words for a person reads it here, below the web layer: the pages' catalogue, and the messages we send.
"""

from __future__ import annotations

from contextvars import ContextVar

LANGUAGES = ("en", "cy")
DEFAULT = "en"

language: ContextVar[str] = ContextVar("language", default=DEFAULT)


def current_language() -> str:
    return language.get()
