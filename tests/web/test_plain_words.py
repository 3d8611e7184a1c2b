"""Citizen pages speak plainly (issue 21): no "second factor", "2FA", identity levels by their codes
("P2"), "MOU" or "vtr" in any citizen template, in any message the pages and services show, or in
the emails and text messages we send, in English or in Welsh; and identity levels are said through the one mapping from level to words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from broker.language import catalogue
from broker.notify import outbox
from broker.web import i18n
from tests.broker.test_welsh import source_messages
from vouching.levels import CHECKED_TO, LEVEL_WORDS, LEVELS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "broker" / "web" / "templates"
# Jargon a person should not have to know; "ail ffactor" is the Welsh of "second factor".
FORBIDDEN = re.compile(r"second factor|ail ffactor|\b2FA\b|\bP[0-3]\b|\bMOUs?\b|\bvtr\b", re.IGNORECASE)
# What a template says outside its Jinja code (comparisons such as ``level == 'P0'`` are code).
JINJA = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)
EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
QUOTED = re.compile(r"\"([^\"]*)\"|'([^']*)'")


def citizen_templates() -> list[Path]:
    """Every template the public sees, the statements (English and Welsh) among them; templates/admin/
    is the staff console."""
    found = sorted(p for p in TEMPLATES.rglob("*.html") if "admin" not in p.relative_to(TEMPLATES).parts)
    assert TEMPLATES / "sign_in_code.html" in found and TEMPLATES / "statements" / "privacy.cy.html" in found
    return found


def template_text(path: Path) -> str:
    """A template's words: its markup outside Jinja code, and the quoted text inside ``{{ }}``."""
    source = JINJA.sub(" ", path.read_text())
    quoted = [a or b for expr in EXPRESSION.findall(source) for a, b in QUOTED.findall(expr)]
    return " ".join([EXPRESSION.sub(" ", source), *quoted])


@pytest.mark.parametrize("path", citizen_templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_citizen_template_uses_jargon(path):
    assert not FORBIDDEN.findall(template_text(path)), path.name


def test_no_message_a_person_reads_uses_jargon_in_english_or_welsh():
    welsh = catalogue("cy")
    found = {
        text: said
        for text in source_messages()
        for said in (text, welsh.gettext(text))
        if FORBIDDEN.search(said)
    }
    assert not found


def test_no_welsh_entry_in_the_catalogue_uses_jargon():
    """Every Welsh entry, even one no page uses now, so none can come back into a page."""
    from babel.messages.pofile import read_po

    with (ROOT / "broker" / "web" / "locales" / "cy" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        entries = [m for m in read_po(handle) if m.id]
    assert len(entries) > 100
    said = {str(m.id): str(m.string) for m in entries}
    assert not {english: welsh for english, welsh in said.items() if FORBIDDEN.search(f"{english} {welsh}")}


@pytest.mark.parametrize("language", ["en", "cy"])
def test_no_email_or_text_message_uses_jargon(language):
    templates = outbox.WELSH if language == "cy" else outbox.TEMPLATES
    assert not {name: text for name, text in templates.items() if FORBIDDEN.search(text)}


def test_the_jargon_check_catches_each_word():
    for jargon in ("your second factor", "2FA", "level P2", "the MOU", "vtr", "eich ail ffactor"):
        assert FORBIDDEN.search(jargon), jargon
    for plain in ("a way to get security codes", "data sharing agreement", "Pont-y-pŵl", "P20 1AA"):
        assert not FORBIDDEN.search(plain), plain


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("language", ["en", "cy"])
def test_every_level_is_said_in_words_never_by_its_code(level, language):
    token = i18n._language.set(language)
    try:
        word, sentence = i18n.level_words(level), i18n.checked_to(level)
    finally:
        i18n._language.reset(token)
    assert level in LEVEL_WORDS and level in CHECKED_TO
    assert not FORBIDDEN.search(word) and not FORBIDDEN.search(sentence)
    if language == "cy":
        assert word != LEVEL_WORDS[level] and sentence != CHECKED_TO[level]


def test_the_sentence_for_a_medium_level():
    assert CHECKED_TO["P2"] == "Your identity is checked to a medium level"
    assert catalogue("cy").gettext(CHECKED_TO["P2"]) == "Mae eich hunaniaeth wedi'i gwirio i lefel ganolig"
