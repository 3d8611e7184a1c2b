"""WCAG 2.2 AA: every citizen page, and the error state of each form, checked with axe-core in headless
Chromium, plus what axe cannot see: each page reflows at 320px, a person's own details have autocomplete,
each error summary link leads to its field, each error message is linked to its field, and a page with
errors has a title starting "Error:". Each test walks many pages in one browser profile; the walk runs
on SQLite only, since the pages do not change with the database.

axe-core is loaded into every page of these profiles before the page's own scripts (an init script, so
it is not sent again for each check), which the broker's CSP (no inline or foreign script) would refuse:
these profiles alone are opened with ``bypass_csp``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from broker.policy.mou import AttributeTerm
from broker.store.db import transaction
from broker.store.models import Account
from tests.e2e.agent import PASSWORD, Callback
from tests.e2e.browser import CHROMIUM, outbox_code
from tests.e2e.identity import KnownPerson, fill_date
from tests.e2e.test_policy import new_version
from tests.e2e.vouchers import invitation_link, proven_person, unique_building

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}"),
    pytest.mark.parametrize("broker", ["sqlite"], indirect=True),  # the pages are the same on PostgreSQL
]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, help: v.help, targets: v.nodes.map(n => n.target.join(" "))}));
}"""
# Each error message must be read out with its field (aria-describedby on the field or its fieldset).
UNLINKED_ERROR_MESSAGES = """() => Array.from(document.querySelectorAll(".govuk-error-message"))
  .filter(p => !p.id || !document.querySelector(`[aria-describedby~="${p.id}"]`))
  .map(p => p.id || p.textContent.trim())"""
# WCAG 1.3.5: a person's own details say what they are, so browsers and assistive tools can fill them.
MISSING_AUTOCOMPLETE = """() => Array.from(document.querySelectorAll(
    "input[name^=birth_date], input[name=given_names], input[name=family_name], input[name=email], "
    + "input[name=postcode], input[type=password], input[type=tel]"))
  .filter(i => i.type !== "hidden" && !i.getAttribute("autocomplete")).map(i => i.name)"""
# What sticks out past a 320px-wide window, if the page scrolls sideways there.
TOO_WIDE = """() => {
  if (document.documentElement.scrollWidth <= 320) return [];
  const wide = Array.from(document.querySelectorAll("main *")).filter(e => e.getBoundingClientRect().right > 321)
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + e.className).slice(0, 3);
  return wide.length ? wide : ["text that does not wrap"];
}"""
# Each link in the error summary must lead to a field on the page.
BROKEN_SUMMARY_LINKS = """() => Array.from(document.querySelectorAll(".govuk-error-summary__list a"))
  .map(a => a.getAttribute("href"))
  .filter(href => !href.startsWith("#") || !document.getElementById(href.slice(1)))"""


class Audit:
    """Runs axe and the error-summary checks on each page visited; collects every problem found."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, page, name: str, errors: bool = False) -> None:  # type: ignore[no-untyped-def]
        page.wait_for_load_state()
        for v in page.evaluate(RUN_AXE, WCAG_22_AA):
            for target in v["targets"]:
                self.problems.append(f"{name} ({page.url}): {v['id']} at {target}: {v['help']}")
        for field in page.evaluate(MISSING_AUTOCOMPLETE):
            self.problems.append(f"{name} ({page.url}): the field {field} has no autocomplete")
        # WCAG 1.4.10 reflow: at 320 CSS pixels wide nothing needs scrolling sideways.
        page.set_viewport_size({"width": 320, "height": 800})
        if wide := page.evaluate(TOO_WIDE):
            self.problems.append(f"{name} ({page.url}): wider than 320px: {wide}")
        page.set_viewport_size({"width": 1000, "height": 800})
        summary = page.locator(".govuk-error-summary__list a").count()
        title = page.title()
        if errors:
            if not summary:
                self.problems.append(f"{name} ({page.url}): no error summary")
            if not title.startswith("Error:"):
                self.problems.append(f"{name} ({page.url}): the title {title!r} does not start with 'Error:'")
            for href in page.evaluate(BROKEN_SUMMARY_LINKS):
                self.problems.append(f"{name} ({page.url}): error summary link {href} leads to no field")
            for message in page.evaluate(UNLINKED_ERROR_MESSAGES):
                self.problems.append(
                    f"{name} ({page.url}): error message {message} is not linked to its field"
                )
        elif summary or title.startswith("Error:"):
            self.problems.append(f"{name} ({page.url}): an error shown where none was expected")

    def submit_empty(self, page, name: str, button: str = "Continue") -> None:  # type: ignore[no-untyped-def]
        page.get_by_role("button", name=button, exact=True).click()
        self.check(page, f"{name}, error", errors=True)

    def assert_clean(self) -> None:
        assert not self.problems, "accessibility problems:\n" + "\n".join(self.problems)


@pytest.fixture
def audited(chromium) -> Iterator[tuple[object, Audit]]:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run make install (npm ci)")
    context = audit_context(chromium)
    context.set_default_timeout(10_000)
    yield context.new_page(), Audit()
    context.close()


def audit_context(chromium):  # type: ignore[no-untyped-def]
    """A browser profile whose every page has axe-core loaded before the page's own scripts run."""
    context = chromium.new_context(bypass_csp=True, viewport={"width": 1000, "height": 800})
    context.add_init_script(path=str(AXE))
    return context


def sign_in(page, audit: Audit, broker, email: str) -> None:  # type: ignore[no-untyped-def]
    audit.check(page, "sign in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    audit.check(page, "security code")
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, email))
    page.get_by_role("button", name="Continue").click()


def test_create_account_consent_and_the_account_pages(broker, rp, audited):
    page, audit = audited
    email = f"a11y-{os.urandom(4).hex()}@example.org"
    optional_phone = AttributeTerm("phone_number", "P0", False, 90)
    new_version(broker, rp.client_id, AttributeTerm("email", "P0", True, 365), optional_phone)
    page.goto(rp.authorization_url(scope="openid email phone"))
    audit.check(page, "sign in")
    audit.submit_empty(page, "sign in", "Sign in")

    page.get_by_role("link", name="Create an account").click()
    audit.check(page, "create account: email")
    audit.submit_empty(page, "create account: email")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "create account: code")
    audit.submit_empty(page, "create account: code")
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, email))
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "create account: password")
    audit.submit_empty(page, "create account: password")
    page.get_by_label("Create your password").fill("velvet otter cabbage lantern")
    page.get_by_label("Confirm your password").fill("velvet otter cabbage lantern")
    page.get_by_role("button", name="Continue").click()
    factor_url = page.url
    audit.check(page, "create account: second factor")
    audit.submit_empty(page, "create account: second factor")
    page.get_by_label("Text message").check()
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "create account: phone")
    audit.submit_empty(page, "create account: phone")
    page.get_by_label("Enter your mobile phone number").fill("07911 123456")
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "create account: phone code")
    audit.submit_empty(page, "create account: phone code")
    page.goto(factor_url.replace("/second-factor", "/passkey"))
    audit.check(page, "create account: passkey")
    page.goto(factor_url)
    page.get_by_label("Authenticator app").check()
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "create account: authenticator app")
    audit.submit_empty(page, "create account: authenticator app")
    totp = pyotp.TOTP(page.locator("#secret-key").inner_text())
    page.get_by_label("Security code").fill(totp.at(broker.services.clock()))
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "create account: account created")
    page.get_by_role("link", name="Continue").click()
    audit.check(page, "consent")
    page.get_by_role("button", name="Agree and continue").click()
    page.wait_for_url(re.compile(re.escape(rp.redirect_uri) + r"\?code="))
    rp.redeem(Callback(page.url))  # the service receives something, so "what it received" has rows

    for path in ("services", "activity", "security", "identity", "vouches"):
        page.goto(f"{broker.url}/account/{path}")
        audit.check(page, f"account: {path}")
    page.goto(f"{broker.url}/account/password")
    audit.check(page, "account: password")
    audit.submit_empty(page, "account: password")
    page.goto(f"{broker.url}/account/delete")
    audit.check(page, "account: delete")
    audit.submit_empty(page, "account: delete", "Delete your account")
    page.goto(f"{broker.url}/services/{rp.client_id}/agreement")
    audit.check(page, "data sharing agreement")
    page.goto(f"{broker.url}/agreements")
    audit.check(page, "register of agreements in force")
    page.goto(f"{broker.url}/account/sharing-history")
    audit.check(page, "account: sharing history")
    page.goto(f"{broker.url}/account/services?lang=cy")
    audit.check(page, "account: services, in Welsh")
    page.goto(f"{broker.url}/account/services?lang=en")
    page.get_by_role("button", name=re.compile("Withdraw your agreement")).click()
    audit.check(page, "account: services, agreement withdrawn")
    page.goto(f"{broker.url}/logout")
    audit.check(page, "sign out")
    page.get_by_role("button", name="Sign out").click()
    audit.check(page, "signed out")
    audit.assert_clean()


def test_sign_in_recovery_lost_factor_and_error_pages(broker, rp, person, audited):
    page, audit = audited
    page.goto(rp.authorization_url())
    page.get_by_label("Email address").fill(person)
    page.get_by_label("Password", exact=True).fill("not my password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    audit.check(page, "sign in, wrong password", errors=True)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    audit.check(page, "security code")
    audit.submit_empty(page, "security code")
    page.get_by_role("link", name="I cannot use my way to get security codes").click()
    audit.check(page, "lost second factor")
    page.get_by_role("button", name="Send the code").click()
    audit.check(page, "lost second factor: code")
    audit.submit_empty(page, "lost second factor: code")

    page.context.clear_cookies()
    page.goto(rp.authorization_url())
    page.get_by_role("link", name="I have forgotten my password").click()
    audit.check(page, "reset password")
    audit.submit_empty(page, "reset password")
    page.get_by_label("Email address").fill(person)
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "reset password: code")
    audit.submit_empty(page, "reset password: code")
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, person))
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "reset password: new password")
    audit.submit_empty(page, "reset password: new password")
    page.get_by_label("Create your password").fill("velvet otter cabbage lantern")
    page.get_by_label("Confirm your password").fill("velvet otter cabbage lantern")
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "sign in, password changed")

    page.goto(
        f"{broker.url}/authorize?response_type=code&client_id=nobody&redirect_uri=https://evil.example/"
    )
    audit.check(page, "error page: unknown service")
    page.goto(f"{broker.url}/no-such-page")
    audit.check(page, "error page: not found")
    audit.assert_clean()


def test_proving_your_identity(broker, person, audited):
    page, audit = audited
    known = KnownPerson().register(broker)
    page.goto(f"{broker.url}/identity/prove")
    sign_in(page, audit, broker, person)
    audit.check(page, "prove: choose a document")
    audit.submit_empty(page, "prove: choose a document")
    page.get_by_label("UK photocard driving licence").check()
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "prove: driving licence")
    audit.submit_empty(page, "prove: driving licence")
    page.goto(f"{broker.url}/identity/no-photo-id")
    audit.check(page, "prove: no photo ID")
    page.goto(f"{broker.url}/identity/passport")
    audit.check(page, "prove: passport")
    audit.submit_empty(page, "prove: passport")
    page.goto(f"{broker.url}/identity/could-not-check")
    audit.check(page, "prove: could not check")
    page.goto(f"{broker.url}/identity/passport")
    page.get_by_label("Passport number").fill(known.passport_number)
    page.get_by_label("Surname").fill(known.family_name)
    page.get_by_label("Given names").fill(known.given_names)
    fill_date(page, "Date of birth", known.birth_date)
    fill_date(page, "Expiry date", known.passport_expiry)
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "prove: check your answers")
    page.get_by_role("button", name="Confirm and check my details").click()
    audit.check(page, "prove: address")
    audit.submit_empty(page, "prove: address")
    page.get_by_label("Building number or name").fill("10")
    page.get_by_label("Street").fill("Downing Street")
    page.get_by_label("Town or city").fill("London")
    page.get_by_label("Postcode").fill("SW1A 2AA")
    page.get_by_label("Year you started living at this address").fill("2015")
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "prove: questions")
    audit.submit_empty(page, "prove: questions")
    page.get_by_role("group", name="Which bank is your current account with?").get_by_label("Birch").check()
    page.get_by_role("group", name="How much is your monthly loan payment?").get_by_label("None").check()
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "prove: result")
    page.goto(f"{broker.url}/account/identity")
    audit.check(page, "account: identity, proven")
    audit.assert_clean()


def test_vouching(broker, chromium, audited):
    page, audit = audited
    voucher = proven_person(broker, "Priya", "Shah", date(1975, 2, 3), "CF11 9AB")
    applicant = f"sam-{os.urandom(4).hex()}@example.org"
    broker.create_account(applicant)
    page.goto(f"{broker.url}/identity/vouching/start")
    sign_in(page, audit, broker, applicant)
    audit.check(page, "vouching: applicant")
    audit.submit_empty(page, "vouching: applicant")
    page.get_by_label("First and middle names").fill("Sam")
    page.get_by_label("Last name").fill("Taylor")
    group = page.get_by_role("group", name="Date of birth")
    for label, part in (("Day", 1), ("Month", 5), ("Year", 1990)):
        group.get_by_label(label).fill(str(part))
    page.get_by_label("Building number or name").fill(unique_building())
    page.get_by_label("Street").fill("Bute Street")
    page.get_by_label("Town or city").fill("Cardiff")
    page.get_by_label("Postcode").fill("CF10 5AA")
    page.get_by_label("Year you started living at this address").fill("2019")
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "vouching: invite")
    audit.submit_empty(page, "vouching: invite", "Send the invitations")
    page.get_by_label("Email address of the first person").fill(voucher)
    page.get_by_label("Email address of the second person").fill(f"owen-{os.urandom(4).hex()}@example.org")
    page.get_by_role("button", name="Send the invitations").click()
    audit.check(page, "vouching: progress")

    context = audit_context(chromium)
    other = context.new_page()
    other.goto(invitation_link(broker, voucher))
    sign_in(other, audit, broker, voucher)
    audit.check(other, "vouching: voucher")
    audit.submit_empty(other, "vouching: voucher", "Vouch for Sam")
    other.get_by_label("Friend").check()
    other.get_by_label("How many years have you known them?").fill("6")
    other.get_by_role("group", name="Do you live at the same address as them?").get_by_label("No").check()
    other.get_by_label("I confirm their name, date of birth and address above are right").check()
    other.get_by_label(re.compile("false information to prove someone's identity is an offence")).check()
    other.get_by_role("button", name="Vouch for Sam").click()
    audit.check(other, "vouching: thank you")
    other.goto(f"{broker.url}/account/vouches")
    audit.check(other, "account: vouches given")
    context.close()
    page.goto(f"{broker.url}/identity/vouching")
    audit.check(page, "vouching: progress, one vouch")
    audit.assert_clean()


def test_security_settings_and_the_backup_method(broker, rp, person, audited):
    page, audit = audited
    with transaction(broker.db) as db:  # a backup phone, so sign-in offers it
        account = db.scalar(select(Account).filter_by(email=person))
        account.backup_method, account.phone_number = "sms", "+447911123456"
    page.goto(rp.authorization_url())
    page.get_by_label("Email address").fill(person)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    code_page = page.url
    page.goto(code_page.replace("/code", "/backup"))
    audit.check(page, "sign in with the backup phone")
    page.get_by_role("button", name="Send the code").click()
    audit.check(page, "sign in with the backup phone: code")
    audit.submit_empty(page, "sign in with the backup phone: code")
    page.goto(code_page)
    page.get_by_label("Security code").fill(outbox_code(page, broker.url, person))
    page.get_by_role("button", name="Continue").click()

    page.goto(f"{broker.url}/account/security")
    audit.check(page, "security, with a backup")
    steps = ("email", "codes", "codes/authenticator", "backup", "backup/phone", "backup/authenticator", "backup/remove")
    for step in steps:
        page.goto(f"{broker.url}/account/security/{step}")
        audit.check(page, f"security: {step}")
        if page.get_by_role("button", name="Continue", exact=True).count():
            audit.submit_empty(page, f"security: {step}")
    page.goto(f"{broker.url}/account/security/email")
    page.get_by_label("New email address").fill(f"new-{os.urandom(4).hex()}@example.org")
    page.get_by_role("button", name="Continue").click()
    audit.check(page, "security: email code")
    audit.submit_empty(page, "security: email code")
    audit.assert_clean()
