"""GOV.UK patterns on the citizen pages, in headless Chromium: GOV.UK Frontend's JavaScript runs (the
error summary takes focus, a password can be shown) and every page still works without it; back links;
the label as the heading of a one-question page; inputs as wide as what they hold; "Not received? Send
again", which honours the limit on sends; and the "or" between the ways to sign in."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from broker.store.models import OutboxMessage
from tests.e2e.agent import PASSWORD, latest_code
from tests.e2e.browser import CHROMIUM
from tests.e2e.identity import KnownPerson
from tests.e2e.test_identity import IDENTITY_CLAIMS, ask_for_identity

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}")


@pytest.fixture
def js_page(chromium) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A browser with JavaScript on: what GOV.UK Frontend's scripts add."""
    context = chromium.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def identity_rp(make_rp):  # type: ignore[no-untyped-def]
    return make_rp(claims=IDENTITY_CLAIMS)


def sent_to(broker, email: str) -> int:  # type: ignore[no-untyped-def]
    with broker.db() as db:
        return int(db.scalar(select(func.count()).where(OutboxMessage.recipient == email)) or 0)


def to_code_page(broker, rp, person, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(rp.authorization_url())
    page.get_by_label("Email address").fill(person)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_label("Security code")).to_be_visible()


def test_the_error_summary_takes_focus_after_a_failed_submit(broker, rp, js_page):
    page = js_page
    page.goto(rp.authorization_url())
    expect(page.locator("body")).to_have_class(re.compile(r"\bgovuk-frontend-supported\b"))
    page.get_by_role("button", name="Sign in", exact=True).click()
    focused = page.locator(":focus")
    expect(focused).to_contain_text("There is a problem")
    expect(focused).to_have_class(re.compile(r"\bgovuk-error-summary\b"))
    # The summary's links still go to their fields.
    page.get_by_role("link", name="Enter your email address").click()
    expect(page.get_by_label("Email address")).to_be_focused()


def test_a_password_can_be_shown_and_hidden_again(broker, rp, js_page):
    page = js_page
    page.goto(rp.authorization_url())
    password = page.get_by_label("Password", exact=True)
    password.fill(PASSWORD)
    expect(password).to_have_attribute("type", "password")
    page.get_by_role("button", name="Show password").click()
    expect(password).to_have_attribute("type", "text")
    page.get_by_role("button", name="Hide password").click()
    expect(password).to_have_attribute("type", "password")


def test_without_javascript_a_password_stays_hidden_and_the_form_still_works(broker, rp, person, chromium):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(rp.authorization_url())
        expect(page.get_by_label("Password", exact=True)).to_have_attribute("type", "password")
        expect(page.get_by_role("button", name="Show password")).to_be_hidden()
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("link", name="Enter your email address")).to_be_visible()
        page.get_by_label("Email address").fill(person)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_label("Security code").fill(latest_code(broker, person))
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("button", name="Agree and continue")).to_be_visible()
    finally:
        context.close()


def test_each_step_of_creating_an_account_has_a_back_link_to_the_step_before(broker, rp, page):
    page.goto(rp.authorization_url())
    sign_in_url = page.url
    expect(page.get_by_role("link", name="Back")).to_have_count(0)  # the first question has none
    page.get_by_role("link", name="Create an account").click()
    # One question: its label is the page's heading.
    heading = page.get_by_role("heading", level=1, name="Enter your email address")
    expect(heading).to_be_visible()
    expect(heading.get_by_text("Enter your email address")).to_have_count(1)
    email_url = page.url
    page.get_by_label("Enter your email address").fill(f"back-{uuid.uuid4().hex[:8]}@example.org")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_label("Security code")).to_have_class(re.compile(r"\bgovuk-input--width-10\b"))
    page.get_by_role("link", name="Back").click()
    expect(page).to_have_url(email_url)
    page.get_by_role("link", name="Back").click()
    expect(page).to_have_url(sign_in_url)


def test_the_security_code_page_goes_back_to_sign_in(broker, rp, person, page):
    to_code_page(broker, rp, person, page)
    code_url = page.url
    page.get_by_role("link", name="Back").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert page.url == code_url.removesuffix("/code")


def test_not_received_sends_a_new_code_that_works_and_the_old_one_does_not(broker, rp, person, page):
    to_code_page(broker, rp, person, page)
    first = latest_code(broker, person)
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_text("We have sent you a new code.")).to_be_visible()
    assert sent_to(broker, person) == 2
    second = latest_code(broker, person)
    if first != second:  # one chance in a million they are the same
        page.get_by_label("Security code").fill(first)
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("link", name=re.compile("not correct"))).to_be_visible()
    page.get_by_label("Security code").fill(second)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Agree and continue")).to_be_visible()


def test_send_again_honours_the_limit_and_never_says_a_code_was_sent_when_none_was(broker, rp, person, agent):
    """An attacker holding the password cannot flood the person's inbox or phone with codes."""
    here = agent.go(rp.authorization_url())
    code_page = agent.submit(here, {"email": person, "password": PASSWORD})
    assert code_page.endswith("/code")
    resend = code_page + "/resend"
    statuses = []
    for _ in range(12):
        agent.submit(resend, {})
        statuses.append(agent.last_status)
        if agent.last_status == 429:
            assert "We have sent you a new code" not in agent.last_page
            assert "You have tried too many times" in agent.last_page
    assert statuses.count(200) == 9 and statuses[9:] == [429, 429, 429]  # 10 sends an hour, with the first
    assert sent_to(broker, person) == 10


def test_creating_an_account_can_send_the_email_again(broker, rp, page):
    email = f"send-again-{uuid.uuid4().hex[:8]}@example.org"
    page.goto(rp.authorization_url())
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Enter your email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_text(f"We have sent another email to {email}.")).to_be_visible()
    assert sent_to(broker, email) == 2
    page.get_by_label("Security code").fill(latest_code(broker, email))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("Create your password")).to_be_visible()


def test_an_or_divides_the_ways_to_sign_in_where_a_passkey_can_be_used(broker, rp, js_page):
    page = js_page
    page.goto(rp.authorization_url())
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    expect(page.get_by_text("or", exact=True)).to_be_visible()


def test_inputs_are_as_wide_as_what_they_hold(broker, identity_rp, person, page):
    KnownPerson().register(broker)
    page.goto(ask_for_identity(identity_rp))
    page.get_by_label("Email address").fill(person)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Security code").fill(latest_code(broker, person))
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("UK passport").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Back")).to_have_attribute("href", "/identity/prove")
    expect(page.get_by_label("Passport number")).to_have_class(re.compile(r"\bgovuk-input--width-10\b"))
    for label in ("Day", "Month"):
        expect(page.get_by_role("group", name="Expiry date").get_by_label(label)).to_have_class(
            re.compile(r"\bgovuk-input--width-2\b")
        )
    expect(page.get_by_role("group", name="Expiry date").get_by_label("Year")).to_have_class(
        re.compile(r"\bgovuk-input--width-4\b")
    )


def test_the_account_created_page_says_what_happens_next(broker, rp, page):
    page.goto(rp.authorization_url())
    page.get_by_role("link", name="Create an account").click()
    email = f"created-{uuid.uuid4().hex[:8]}@example.org"
    page.get_by_label("Enter your email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(latest_code(broker, email))
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Create your password").fill("velvet otter cabbage lantern")
    page.get_by_label("Confirm your password").fill("velvet otter cabbage lantern")
    page.get_by_role("button", name="Continue").click()
    # One question: the choice's legend is the page's heading.
    expect(page.get_by_role("group", name="Choose how to get security codes")).to_be_visible()
    page.get_by_label("Email", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account has been created")
    expect(page.get_by_role("heading", level=2, name="What happens next")).to_be_visible()
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("button", name="Agree and continue")).to_be_visible()


def test_a_new_account_s_phone_can_be_sent_its_code_again(broker, rp, agent):
    email = f"phone-again-{uuid.uuid4().hex[:8]}@example.org"
    sign_in = agent.go(rp.authorization_url())
    here = agent.submit(sign_in.replace("/sign-in/", "/create-account/"), {"email": email})
    here = agent.submit(here, {"code": latest_code(broker, email)})
    here = agent.submit(here, {"password": "velvet otter cabbage lantern", "confirm": "velvet otter cabbage lantern"})
    here = agent.submit(here, {"method": "sms"})
    assert "Enter your mobile phone number" in agent.last_page and 'class="govuk-back-link"' in agent.last_page
    digits = f"{uuid.uuid4().int % 10**5:05d}"
    here = agent.submit(here, {"phone": f"079111{digits}"})
    assert here.endswith("/phone/code") and "Not received?" in agent.last_page
    agent.submit(here + "/resend", {})
    assert agent.last_status == 200 and "We have sent you a new code" in agent.last_page
    assert sent_to(broker, f"+4479111{digits}") == 2
    agent.submit(here, {"code": latest_code(broker, f"+4479111{digits}")})
    assert "Your account has been created" in agent.last_page
