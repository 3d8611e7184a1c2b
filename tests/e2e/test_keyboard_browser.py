"""Keyboard only, in headless Chromium: create an account, and sign in with a password and a code, using
nothing but Tab, Shift+Tab, Enter, Space, the arrow keys and typing into whatever has focus. The skip link
is the first Tab stop on every page and takes focus to the main content (after a failed submit, the
error summary has focus instead, as GOV.UK Frontend gives it); every stop shows its focus."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from tests.e2e.agent import PASSWORD, Callback, latest_code
from tests.e2e.browser import CHROMIUM

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}"),
    pytest.mark.parametrize("broker", ["sqlite"], indirect=True),  # the pages are the same on PostgreSQL
]

MAX_TABS = 30
# What has focus: its accessible name as a person would hear it (a field's label), and whether it shows.
FOCUSED = """() => {
  const el = document.activeElement;
  const name = (el.labels && el.labels.length ? el.labels[0].innerText : el.innerText || "").trim();
  const style = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), id: el.id, name: name, checked: !!el.checked,
          visible: style.outlineStyle !== "none" || style.boxShadow !== "none"};
}"""


@pytest.fixture
def keyboard_page(chromium) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": 1000, "height": 800})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def focused(page) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return dict(page.evaluate(FOCUSED))


def skip_to_main(page) -> None:  # type: ignore[no-untyped-def]
    """The first Tab stop is the skip link; Enter on it puts focus on the main content."""
    page.wait_for_load_state()
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["name"] == "Skip to main content", f"first Tab stop on {page.url} is {first}"
    assert first["visible"], "the skip link shows no focus"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main-content", f"the skip link left focus on {focused(page)}"


def summary_has_focus(page) -> None:  # type: ignore[no-untyped-def]
    """After a failed submit GOV.UK Frontend's error summary takes focus, so Tab goes on to its links."""
    page.wait_for_load_state()
    summary = page.evaluate("() => document.activeElement.className")
    assert "govuk-error-summary" in summary, f"the error summary does not have focus on {page.url}"


def tab_to(page, name: str, back: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Press Tab (or Shift+Tab) until the element called ``name`` has focus."""
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        now = focused(page)
        seen.append(now["name"])
        assert now["visible"], f"{now} has focus on {page.url} but does not show it (WCAG 2.4.7)"
        if now["name"] == name:
            return
    raise AssertionError(f"Tab never reached {name!r} on {page.url}; stops were {seen}")


def type_into(page, label: str, text: str) -> None:  # type: ignore[no-untyped-def]
    tab_to(page, label)
    page.keyboard.type(text)


def press_button(page, name: str, key: str = "Enter") -> None:  # type: ignore[no-untyped-def]
    tab_to(page, name)
    with page.expect_navigation():
        page.keyboard.press(key)


def test_create_an_account_with_the_keyboard_only(broker, rp, keyboard_page):
    page = keyboard_page
    email = f"keys-{os.urandom(4).hex()}@example.org"
    page.goto(rp.authorization_url())
    skip_to_main(page)
    press_button(page, "Create an account")

    skip_to_main(page)
    type_into(page, "Enter your email address", email)  # one question: its label is the heading
    press_button(page, "Continue")

    skip_to_main(page)
    type_into(page, "Security code", latest_code(broker, email))
    press_button(page, "Continue")

    skip_to_main(page)
    type_into(page, "Create your password", "velvet otter cabbage lantern")
    type_into(page, "Confirm your password", "velvet otter cabbage lantern")
    press_button(page, "Continue")

    skip_to_main(page)
    press_button(page, "Continue")  # nothing chosen: the error summary takes focus
    summary_has_focus(page)
    tab_to(page, "Select how you want to get security codes")
    page.keyboard.press("Enter")  # the summary's link moves focus to the first choice
    assert focused(page)["name"] == "Authenticator app"
    page.keyboard.press("ArrowDown")  # arrows move through a radio group, choosing as they go
    page.keyboard.press("ArrowDown")
    choice = focused(page)
    assert choice["name"] == "Email" and choice["checked"] and choice["visible"]
    press_button(page, "Continue")

    skip_to_main(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Your account has been created"
    press_button(page, "Continue")

    skip_to_main(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Test service wants to use your information"
    tab_to(page, "Agree and continue")
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(re.escape(rp.redirect_uri) + r"\?code="))
    assert rp.redeem(Callback(page.url))["id_claims"]["vot"] == "Cl.Cm"


def test_sign_in_with_a_password_and_a_code_with_the_keyboard_only(broker, rp, person, keyboard_page):
    page = keyboard_page
    page.goto(rp.authorization_url())
    skip_to_main(page)
    type_into(page, "Email address", person)
    type_into(page, "Password", "not my password")
    press_button(page, "Sign in")

    summary_has_focus(page)
    tab_to(page, "Enter the email address and password for your account")
    page.keyboard.press("Enter")  # from the error summary to the field
    assert focused(page)["id"] == "email"
    tab_to(page, "Password")
    page.keyboard.press("Control+A")
    page.keyboard.type(PASSWORD)
    tab_to(page, "Email address", back=True)  # Shift+Tab goes back the way it came
    assert focused(page)["id"] == "email"
    press_button(page, "Sign in")

    skip_to_main(page)
    type_into(page, "Security code", latest_code(broker, person))
    with page.expect_navigation():
        page.keyboard.press("Enter")  # Enter in the field sends the form

    skip_to_main(page)
    press_button(page, "Agree and continue", key="Space")
    page.wait_for_url(re.compile(re.escape(rp.redirect_uri) + r"\?code="))
    assert rp.redeem(Callback(page.url))["id_claims"]["vot"] == "Cl.Cm"
