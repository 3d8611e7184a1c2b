"""`make screenshots`: the README's tour as PNGs in docs/screenshots/.

Runs `broker demo` itself, as the README says to, in a throwaway folder on free ports, and follows the
tour in headless Debian Chromium (/usr/bin/chromium): the broker's home page, the demo service's Sign
in, an error, creating an account, the demo person's sign-in and agreement, what the demo service
received, proving an identity with the simulated passport (its details page and check your answers),
and the account pages; one page in Welsh (`?lang=cy`). Security codes are read off the development
outbox page, as a newcomer would.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from playwright.sync_api import Page, sync_playwright

from broker.demo.identity import DEMO_PASSPORT_EXPIRY, DEMO_PASSPORT_NUMBER, DEMO_PERSON, DEMO_QUESTIONS
from broker.demo.run import DEMO_EMAIL

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
BROKER = ROOT / ".venv" / "bin" / "broker"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
WIDTH = 1000
NEW_PERSON = "sam@example.org"
NEW_PASSWORD = "velvet otter cabbage lantern"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, demo: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if demo.poll() is not None:
            sys.exit(f"broker demo stopped: exit status {demo.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    sys.exit(f"broker demo did not answer at {url}")


def latest_code(page: Page, issuer: str, recipient: str) -> str:
    """The newest security code sent to ``recipient``, read off the development outbox page."""
    outbox = page.context.new_page()
    outbox.goto(f"{issuer}/dev/outbox?{urlencode({'to': recipient})}")
    found = re.search(r"\b(\d{6})\b", outbox.get_by_role("row").filter(has_text=recipient).first.inner_text())
    outbox.close()
    assert found, f"no security code for {recipient}"
    return found.group(1)


def shot(page: Page, name: str) -> None:
    page.wait_for_load_state()
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"  docs/screenshots/{name}.png  {page.title()}")


def click(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()


def walk(page: Page, issuer: str, service: str, password: str) -> None:
    page.goto(f"{issuer}/")
    shot(page, "home")

    # A new person at the demo service: sign in, an error, create an account up to choosing how to get codes.
    page.goto(service)
    click(page, "Sign in")
    page.get_by_role("heading", name="Sign in", level=1).wait_for()
    shot(page, "sign-in")
    sign_in_page = page.url
    page.goto(f"{sign_in_page}&lang=cy" if "?" in sign_in_page else f"{sign_in_page}?lang=cy")
    shot(page, "sign-in-welsh")
    page.goto(f"{sign_in_page}&lang=en" if "?" in sign_in_page else f"{sign_in_page}?lang=en")
    click(page, "Sign in")
    shot(page, "error-state")
    page.get_by_role("link", name="Create an account").click()
    shot(page, "create-account")
    page.get_by_label("Enter your email address").fill(NEW_PERSON)
    click(page, "Continue")
    page.get_by_label("Security code").fill(latest_code(page, issuer, NEW_PERSON))
    click(page, "Continue")
    page.get_by_label("Create your password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm your password").fill(NEW_PASSWORD)
    click(page, "Continue")
    shot(page, "security-codes")

    # The demo person: sign in with a password and an emailed code, agree to share, and what the service got.
    page.context.clear_cookies()
    page.goto(service)
    click(page, "Sign in")
    page.get_by_label("Email address").fill(DEMO_EMAIL)
    page.get_by_label("Password", exact=True).fill(password)
    click(page, "Sign in")
    page.get_by_label("Security code").fill(latest_code(page, issuer, DEMO_EMAIL))
    click(page, "Continue")
    shot(page, "consent")
    click(page, "Agree and continue")
    page.get_by_role("heading", name="You are signed in").wait_for()
    shot(page, "demo-signed-in")

    # Sign out, then prove an identity with the simulated passport, asked for by the demo service.
    click(page, "Sign out")
    page.get_by_role("heading", name="You have signed out").wait_for()
    shot(page, "demo-signed-out")
    page.goto(service)
    click(page, "Sign in with identity check")
    page.get_by_label("Email address").fill(DEMO_EMAIL)
    page.get_by_label("Password", exact=True).fill(password)
    click(page, "Sign in")
    page.get_by_label("Security code").fill(latest_code(page, issuer, DEMO_EMAIL))
    click(page, "Continue")
    page.get_by_label("UK passport").check()
    click(page, "Continue")
    page.get_by_label("Passport number").fill(DEMO_PASSPORT_NUMBER)
    page.get_by_label("Surname").fill(DEMO_PERSON.family_name)
    page.get_by_label("Given names").fill(DEMO_PERSON.given_names)
    for legend, day in (("Date of birth", DEMO_PERSON.birth_date), ("Expiry date", DEMO_PASSPORT_EXPIRY)):
        for label, value in (("Day", day.day), ("Month", day.month), ("Year", day.year)):
            page.get_by_role("group", name=legend).get_by_label(label).fill(str(value))
    shot(page, "passport-check")
    click(page, "Continue")
    shot(page, "check-answers")
    click(page, "Confirm and check my details")
    page.get_by_label("Building number or name").fill("10")
    page.get_by_label("Street").fill("Downing Street")
    page.get_by_label("Town or city").fill("London")
    page.get_by_label("Postcode").fill("SW1A 2AA")
    page.get_by_label("Year you started living at this address").fill("2015")
    click(page, "Continue")
    for question in DEMO_QUESTIONS:
        page.get_by_role("group", name=question["text"]).get_by_label(question["answer"]).check()
    click(page, "Continue")
    shot(page, "proving-result")

    for path, name in (
        ("/account", "account-home"),
        ("/account/services", "your-services"),
        ("/account/activity", "activity"),
        ("/account/security", "security"),
        ("/account/identity", "your-identity"),
    ):
        page.goto(f"{issuer}{path}")
        shot(page, name)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    port, rp_port = free_port(), free_port()
    issuer, service = f"http://localhost:{port}", f"http://localhost:{rp_port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
        demo = subprocess.Popen(
            [str(BROKER), "demo", "--port", str(port), "--rp-port", str(rp_port)],
            cwd=tmp,
            env=env,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for(f"{issuer}/", demo)
            wait_for(service, demo)
            password = json.loads((Path(tmp) / "var" / "demo.json").read_text())["password"]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport={"width": WIDTH, "height": 700})
                context.set_default_timeout(15_000)
                walk(context.new_page(), issuer, service, password)
                browser.close()
        finally:
            os.killpg(demo.pid, signal.SIGTERM)
            demo.wait(timeout=20)


if __name__ == "__main__":
    main()
