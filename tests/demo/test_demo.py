"""`broker demo` end to end: a newcomer signs in at the demo service in Chromium and sees their claims."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import httpx
import pytest
from playwright.sync_api import expect

from broker.demo.identity import DEMO_PASSPORT_EXPIRY, DEMO_PASSPORT_NUMBER, DEMO_PERSON, DEMO_QUESTIONS
from tests.e2e.browser import CHROMIUM, outbox_code
from tests.e2e.conftest import free_port
from tests.e2e.identity import fill_passport
from tests.test_cli import BROKER

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"browser tests skipped: no {CHROMIUM}")


@pytest.fixture
def demo(tmp_path):
    port, rp_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
    proc = subprocess.Popen(
        [BROKER, "demo", "--port", str(port), "--rp-port", str(rp_port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            if (
                httpx.get(f"http://localhost:{rp_port}/").status_code == 200
                and httpx.get(f"http://localhost:{port}/readyz").status_code == 200
            ):
                break
        except httpx.TransportError:
            time.sleep(0.2)
    details = json.loads((tmp_path / "var" / "demo.json").read_text())
    yield f"http://localhost:{port}", f"http://localhost:{rp_port}", details
    proc.terminate()
    proc.wait(timeout=20)


def test_sign_in_at_the_demo_service_and_sign_out(demo, chromium):
    broker_url, rp_url, details = demo
    context = chromium.new_context()
    page = context.new_page()
    page.goto(rp_url)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Email address").fill("demo@example.org")
    page.get_by_label("Password", exact=True).fill(details["password"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    outbox = context.new_page()
    outbox.goto(f"{broker_url}/dev/outbox")
    code = re.search(r"security code is (\d{6})", outbox.content()).group(1)
    page.get_by_label("Security code").fill(code)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Agree and continue").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are signed in"
    claims = page.locator("pre").first.inner_text()
    assert '"vot": "Cl.Cm"' in claims and '"sid"' in claims
    assert "demo@example.org" in page.locator("pre").nth(1).inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(rp_url + "/*")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    context.close()


def test_prove_the_demo_identity_and_the_demo_service_verifies_it(demo, chromium):
    broker_url, rp_url, details = demo
    context = chromium.new_context()
    page = context.new_page()
    page.goto(rp_url)
    page.get_by_role("button", name="Sign in with identity check").click()
    page.get_by_label("Email address").fill("demo@example.org")
    page.get_by_label("Password", exact=True).fill(details["password"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Security code").fill(outbox_code(page, broker_url, "demo@example.org"))
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("UK passport").check()
    page.get_by_role("button", name="Continue").click()
    fill_passport(
        page,
        DEMO_PASSPORT_NUMBER,
        DEMO_PERSON.family_name,
        DEMO_PERSON.given_names,
        DEMO_PERSON.birth_date,
        DEMO_PASSPORT_EXPIRY,
    )
    for label, value in (
        ("Building number or name", "1"),
        ("Street", "High Street"),
        ("Town or city", "Cardiff"),
        ("Postcode", "CF10 1AA"),
        ("Year you started living at this address", "2012"),
    ):
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Continue").click()
    for question in DEMO_QUESTIONS:
        page.get_by_role("group", name=question["text"]).get_by_label(question["answer"]).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Continue to the service").click()
    page.get_by_role("button", name="Agree and continue").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are signed in"
    identity = json.loads(page.locator("pre").nth(2).inner_text())
    assert identity["vot"] == "P2" and identity["birthDate"] == [{"value": "1990-01-01"}]
    context.close()
