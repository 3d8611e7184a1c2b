"""The service frame as each page's template draws it: the name in the page's language, the phase
banner and its feedback link, and the footer's statements, from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.app import _templates
from broker.config import load_settings
from broker.language import language


def page(language_code: str = "en", **settings: object) -> str:
    templates = _templates(load_settings(key_encryption_key_file=Path("unused"), **settings))
    token = language.set(language_code)
    try:
        return templates.env.get_template("signed_out.html").render()
    finally:
        language.reset(token)


def test_the_name_is_in_the_language_of_the_page() -> None:
    english, welsh = page(), page("cy")
    assert "<title>You have signed out – Sign in to public services</title>" in english
    assert "Mewngofnodi i wasanaethau cyhoeddus" in welsh and "Sign in to public services" not in welsh


def test_no_phase_banner_by_default() -> None:
    assert "govuk-phase-banner" not in page()


@pytest.mark.parametrize(("phase", "tag"), [("alpha", "Alpha"), ("beta", "Beta")])
def test_the_phase_banner_names_the_phase(phase: str, tag: str) -> None:
    drawn = page(phase=phase)
    assert f'govuk-phase-banner__content__tag">{tag}</strong>' in drawn
    assert "This is a new service. We are still improving it." in drawn


def test_the_feedback_link_is_a_link_and_its_address_is_escaped() -> None:
    drawn = page(phase="beta", feedback_url='https://example.gov/feedback?a=1&b="2"')
    assert '<a class="govuk-link" href="https://example.gov/feedback?a=1&amp;b=&#34;2&#34;">your feedback</a>' in drawn
    welsh = page("cy", phase="beta", feedback_url="https://example.gov/adborth")
    assert '<a class="govuk-link" href="https://example.gov/adborth">eich adborth</a>' in welsh


def test_the_footer_names_the_organisation_and_links_to_the_statements() -> None:
    drawn = page(organisation_name="Example Council", organisation_name_cy="Cyngor Enghraifft")
    for href in ("/accessibility", "/privacy", "/cookies"):
        assert f'href="{href}"' in drawn
    assert "Sign in to public services is run by Example Council." in drawn
    assert "Mae Mewngofnodi i wasanaethau cyhoeddus yn cael ei redeg gan Cyngor Enghraifft." in page(
        "cy", organisation_name="Example Council", organisation_name_cy="Cyngor Enghraifft"
    )
