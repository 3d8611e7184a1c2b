"""Every page in English and Welsh: the catalogue is complete, and the language is chosen as promised."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from markupsafe import Markup

from broker import language
from broker.web import i18n

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def source_messages() -> set[str]:
    """What `pybabel extract -F babel.cfg -k N_` finds in the code and templates today."""
    method_map, options_map = [], {}
    section = None
    for raw in (ROOT / "babel.cfg").read_text().splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].split(":", 1)
            method_map.append((section[1].strip(), section[0].strip()))
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords={"_": None, "N_": None, "ngettext": (1, 2)}
    ):
        singular = message[0] if isinstance(message, tuple) else message  # plurals are kept by their singular
        if singular:
            found.add(singular)
    return found


def welsh_catalogue():
    with (language.LOCALES / "cy" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale="cy")


def test_every_message_on_a_page_has_a_welsh_translation():
    catalogue = welsh_catalogue()
    missing = []
    for text in sorted(source_messages()):
        entry = catalogue.get(text)
        translated = entry.string if entry else None
        if isinstance(translated, tuple):
            translated = translated[0] if all(translated) else None
        if not translated or (entry is not None and entry.fuzzy):
            missing.append(text)
    assert not missing, (
        f"{len(missing)} message(s) have no Welsh entry; run `make translations` and translate them "
        f"in broker/web/locales/cy/LC_MESSAGES/messages.po: {missing[:20]}"
    )


def test_welsh_translations_keep_every_placeholder():
    wrong = []
    for entry in welsh_catalogue():
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if set(PLACEHOLDER.findall(string)) - wanted or (wanted - {"num"}) - set(
                PLACEHOLDER.findall(string)
            ):
                wrong.append((ids[0], string))
    assert not wrong


@pytest.mark.parametrize(
    ("query", "ui_locales", "cookie", "chosen"),
    [
        (None, None, None, "en"),
        ("cy", None, None, "cy"),
        (None, "cy-GB en", None, "cy"),
        (None, "fr en", "cy", "en"),  # the service's first language we speak wins over the cookie
        (None, "fr", "cy", "cy"),
        (None, None, "cy", "cy"),
        ("en", "cy", "cy", "en"),  # the toggle wins
        ("xx", None, "zz", "en"),  # unknown values are ignored
    ],
)
def test_language_is_chosen_by_toggle_then_ui_locales_then_cookie(query, ui_locales, cookie, chosen):
    assert i18n.choose_language(query, ui_locales, cookie) == chosen


def test_the_language_link_keeps_the_rest_of_the_query():
    assert i18n.language_link("/account/sign-in", "next=%2Faccount%2Fservices&lang=en", "cy") == (
        "/account/sign-in?next=%2Faccount%2Fservices&lang=cy"
    )


def test_text_a_person_typed_is_escaped_even_when_it_goes_through_translation():
    token = i18n._language.set("cy")
    try:
        plain = i18n._template_gettext("<script>alert(1)</script>")
        filled = i18n._template_gettext("Sent to %(email)s", email="<b>x</b>@example.org")
    finally:
        i18n._language.reset(token)
    assert not isinstance(plain, Markup)  # escaped by the template's autoescape on output
    assert "<b>" not in str(filled) and "&lt;b&gt;" in str(filled)
    assert i18n._template_gettext("100% sure") == "100% sure"  # a bare % does not break a page


def test_the_toggle_and_cookie_choose_the_language_and_staff_pages_stay_english(tmp_path):
    from fastapi.testclient import TestClient

    from broker.app import create_app
    from broker.config import load_settings

    settings = load_settings(
        env="test",
        issuer="http://broker.test",
        database_url=f"sqlite:///{tmp_path}/b.db",
        key_encryption_key_file=tmp_path / "kek",
    )
    with TestClient(create_app(settings), base_url="http://broker.test") as http:
        page = {"headers": {"Accept": "text/html"}}
        welsh = http.get("/no-such-page?lang=cy", **page)
        assert 'lang="cy"' in welsh.text and "lang=cy" in welsh.headers["set-cookie"]
        assert "Heb ddod o hyd i" in welsh.text  # "Page not found"
        assert 'lang="cy"' in http.get("/no-such-page", **page).text  # remembered by the cookie
        staff = http.get("/dev/outbox?lang=cy")  # English only, like the staff console under /admin
        assert 'lang="en"' in staff.text and "Cymraeg" not in staff.text  # and no toggle
        assert "lang=" not in staff.headers.get("set-cookie", "")
        english = http.get("/no-such-page?lang=en", **page)
        assert 'lang="en"' in english.text and "lang=en" in english.headers["set-cookie"]
