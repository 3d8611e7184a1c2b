"""`broker demo` as a newcomer meets it, a real process driven in Chromium: what it prints, single
sign-on across its two demo services with a different ``sub`` at each, a restart on other ports, and
the demo service's own pages checked with axe-core like the broker's."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.demo.process import running_demo
from tests.demo.test_demo import EMAIL, claim, sign_in_with_password
from tests.e2e.browser import CHROMIUM
from tests.e2e.conftest import free_port
from tests.e2e.test_accessibility_browser import AXE, Audit, audit_context

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}"),
    pytest.mark.timeout(300),  # each starts `broker demo` as a process, and some twice
]


def test_it_prints_what_to_open_and_the_account_and_keeps_the_screen_quiet(tmp_path):
    with running_demo(tmp_path, port := free_port(), rp_port := free_port()) as demo:
        assert demo.rp_url == f"http://localhost:{rp_port}"
    printed = demo.output
    for words in (
        f"Open http://localhost:{rp_port} and press Sign in",
        f"Email address:  {EMAIL}",
        f"Password:       {demo.details['password']}",
        f"http://localhost:{port}/dev/outbox",
        f"open http://127.0.0.1:{rp_port} and press Sign in",
        "Logs:    var/demo.log",
    ):
        assert words in printed, printed
    # Nothing else on the screen: no deprecation warning, no start-up or request log.
    assert demo.errors == "", demo.errors
    assert "Uvicorn running" in (tmp_path / "var" / "demo.log").read_text()


def test_verbose_shows_the_logs(tmp_path):
    with running_demo(tmp_path, free_port(), free_port(), "--verbose") as demo:
        pass
    assert "Uvicorn running" in demo.errors and "DeprecationWarning" not in demo.errors, demo.errors
    assert "Logs:    here" in demo.output


def test_single_sign_on_across_the_two_demo_services_with_a_pairwise_sub_at_each(tmp_path, chromium):
    with running_demo(tmp_path, free_port(), free_port()) as demo:
        context = chromium.new_context()
        page = context.new_page()
        sign_in_with_password(page, demo)
        page.get_by_role("button", name="Agree and continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You are signed in")
        first_sub = claim(page, "sub")
        page.get_by_role("link", name="Second demo service").first.click()
        expect(page).to_have_url(demo.twin_url + "/")
        page.get_by_role("button", name="Sign in", exact=True).click()
        # Signed in already at the broker: no password, no security code; only this service's consent.
        expect(page.get_by_role("button", name="Agree and continue")).to_be_visible()
        assert page.get_by_label("Password", exact=True).count() == 0
        page.get_by_role("button", name="Agree and continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You are signed in")
        expect(page.get_by_role("banner")).to_contain_text("Second demo service")
        second_sub = claim(page, "sub")
        assert first_sub and second_sub and first_sub != second_sub
        assert claim(page, "aud") == "demo-second"
        context.close()


def test_a_restart_on_other_ports_moves_the_demo_services(tmp_path, chromium):
    with running_demo(tmp_path, free_port(), free_port()):
        pass
    with running_demo(tmp_path, free_port(), free_port()) as demo:  # the same var/, other ports
        context = chromium.new_context()
        page = context.new_page()
        sign_in_with_password(page, demo)
        page.get_by_role("button", name="Agree and continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You are signed in")
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")
        context.close()


def test_the_guide_for_services_is_shown_as_a_page(tmp_path, chromium):
    with running_demo(tmp_path, free_port(), free_port()) as demo:
        page = chromium.new_page()
        page.goto(demo.rp_url)
        page.get_by_role("link", name="Connect your service to the broker").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Integrating a relying service")
        expect(page.get_by_role("heading", name="1. Discover")).to_be_visible()
        expect(page.get_by_role("table").first).to_be_visible()
        page.close()


def test_the_demo_services_pages_pass_axe(tmp_path, chromium):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run make install (npm ci)")
    audit = Audit()
    with running_demo(tmp_path, free_port(), free_port()) as demo:
        context = audit_context(chromium)
        page = context.new_page()
        page.goto(demo.rp_url)
        audit.check(page, "demo service: start")
        page.goto(demo.rp_url + "/integrating")
        audit.check(page, "demo service: the guide")
        page.goto(demo.rp_url + "/callback?code=x&state=y")
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in failed")
        audit.check(page, "demo service: sign-in failed")
        sign_in_with_password(page, demo)
        page.get_by_role("button", name="Agree and continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You are signed in")
        audit.check(page, "demo service: signed in")
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")
        audit.check(page, "demo service: signed out")
        context.close()
    audit.assert_clean()
