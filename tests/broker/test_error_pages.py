"""The error pages in the person's language: an address that does not exist (404), our own failure
(500, which never shows its details), and a refused authorization request, which shows what to do
and never the library's description of what was wrong."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from broker.app import create_app
from broker.config import load_settings
from broker.errors import NOT_FOUND_ADVICE, SERVER_ERROR_ADVICE, SERVER_ERROR_TITLE, UntrustedRedirectUri
from broker.language import catalogue

PAGE = {"Accept": "text/html"}


def shown(text: str) -> str:
    """Text as the page's HTML holds it (escaped)."""
    return str(escape(text))


@pytest.fixture
def http(tmp_path):
    settings = load_settings(
        env="test",
        issuer="http://broker.test",
        database_url=f"sqlite:///{tmp_path}/b.db",
        key_encryption_key_file=tmp_path / "kek",
    )
    app = create_app(settings)

    @app.get("/fails")
    def fails() -> None:
        raise RuntimeError("database password is hunter2")

    @app.get("/refused")
    def refused() -> None:
        raise UntrustedRedirectUri("Redirect URI https://evil.example/cb is not supported by client.")

    with TestClient(app, base_url="http://broker.test", raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_page_that_does_not_exist_says_so_in_the_persons_language(http, language):
    page = http.get(f"/no-such-page?lang={language}", headers=PAGE)
    words = catalogue(language)
    assert page.status_code == 404
    assert shown(words.gettext("Page not found")) in page.text
    assert shown(words.gettext(NOT_FOUND_ADVICE)) in page.text


@pytest.mark.parametrize("language", ["en", "cy"])
def test_our_own_failure_says_sorry_in_the_persons_language_and_never_its_details(http, language):
    page = http.get(f"/fails?lang={language}", headers=PAGE)
    words = catalogue(language)
    assert page.status_code == 500
    assert shown(words.gettext(SERVER_ERROR_TITLE)) in page.text
    assert words.gettext(SERVER_ERROR_ADVICE) in page.text
    assert "hunter2" not in page.text and "RuntimeError" not in page.text
    if language == "cy":
        assert SERVER_ERROR_TITLE not in page.text


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_refused_request_shows_what_to_do_never_the_librarys_description(http, language):
    page = http.get(f"/refused?lang={language}", headers=PAGE)
    words = catalogue(language)
    assert page.status_code == 400
    assert shown(words.gettext(UntrustedRedirectUri.advice)) in page.text
    assert "not supported" not in page.text and "evil.example" not in page.text


# Errors only staff see: the console is in English (broker.language.ENGLISH_ONLY).
STAFF_ONLY = {"NotStaff", "PasskeyNeeded", "NoSuchAgreement"}


def test_every_error_page_a_person_may_see_has_a_welsh_title():
    import broker.app  # noqa: F401  (every module, so every error class, is loaded)
    from broker.errors import BrokerError

    def family(cls: type[BrokerError]) -> list[type[BrokerError]]:
        return [c for sub in cls.__subclasses__() for c in (sub, *family(sub))]

    welsh = catalogue("cy")
    untranslated = [
        (error.__name__, error.title)
        for error in family(BrokerError)
        if error.for_people and error.title and error.__name__ not in STAFF_ONLY
        if welsh.gettext(error.title) == error.title
    ]
    assert not untranslated
