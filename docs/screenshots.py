"""`make screenshots`: the broker's main pages as PNGs in docs/screenshots/, for the README.

Starts the broker as the demo does, on a temporary SQLite database, seeds the demo service, account and
simulated passport, then walks the pages in headless Debian Chromium (/usr/bin/chromium) with the demo
person signed in, and one page in Welsh (`?lang=cy`). Nothing is sent anywhere: security codes are read
from the outbox table, and the demo service's callback is answered inside the browser.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import uvicorn
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select

from broker.app import build_services, create_app
from broker.config import load_settings
from broker.demo.identity import DEMO_PASSPORT_EXPIRY, DEMO_PASSPORT_NUMBER, DEMO_PERSON, DEMO_QUESTIONS
from broker.demo.run import DEMO_CLIENT_ID, DEMO_EMAIL, seed
from broker.deps import Services
from broker.logs import configure_logging
from broker.store.models import OutboxMessage

OUT = Path(__file__).resolve().parent / "screenshots"
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


class Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread
        pass


def start(app: object, port: int) -> Server:
    server = Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            sys.exit("the broker did not start")
        time.sleep(0.05)
    return server


def latest_code(services: Services, email: str) -> str:
    with services.session_factory() as db:
        message = db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.created_at.desc())
        ).first()
        assert message is not None, f"no security code for {email}"
        return str(message.personalisation["code"])


def authorization_url(issuer: str, redirect_uri: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": "openid email phone",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{issuer}/authorize?{urlencode(query)}"


def shot(page: Page, name: str) -> None:
    page.wait_for_load_state()
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"  docs/screenshots/{name}.png  {page.title()}")


def click(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()


def walk(page: Page, issuer: str, services: Services, password: str, redirect_uri: str) -> None:
    # A new person: sign in, an error, create an account up to choosing a second factor.
    page.goto(authorization_url(issuer, redirect_uri))
    shot(page, "sign-in")
    sign_in_page = page.url
    page.goto(f"{sign_in_page}?lang=cy")
    shot(page, "sign-in-welsh")
    page.goto(f"{sign_in_page}?lang=en")
    click(page, "Sign in")
    shot(page, "error-state")
    page.get_by_role("link", name="Create an account").click()
    shot(page, "create-account")
    page.get_by_label("Email address").fill(NEW_PERSON)
    click(page, "Continue")
    page.get_by_label("Security code").fill(latest_code(services, NEW_PERSON))
    click(page, "Continue")
    page.get_by_label("Create your password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm your password").fill(NEW_PASSWORD)
    click(page, "Continue")
    shot(page, "second-factor")

    # The demo person: sign in with a password and an emailed code, agree to share.
    page.context.clear_cookies()
    page.goto(authorization_url(issuer, redirect_uri))
    page.get_by_label("Email address").fill(DEMO_EMAIL)
    page.get_by_label("Password", exact=True).fill(password)
    click(page, "Sign in")
    page.get_by_label("Security code").fill(latest_code(services, DEMO_EMAIL))
    click(page, "Continue")
    shot(page, "consent")
    click(page, "Agree and continue")
    page.wait_for_url(f"{redirect_uri}?*")  # back at the demo service (answered by the route below)

    # Prove an identity with the simulated passport.
    page.goto(f"{issuer}/identity/prove")
    page.get_by_label("UK passport").check()
    click(page, "Continue")
    page.get_by_label("Passport number").fill(DEMO_PASSPORT_NUMBER)
    page.get_by_label("Surname").fill(DEMO_PERSON.family_name)
    page.get_by_label("Given names").fill(DEMO_PERSON.given_names)
    for legend, day in (("Date of birth", DEMO_PERSON.birth_date), ("Expiry date", DEMO_PASSPORT_EXPIRY)):
        for label, value in (("Day", day.day), ("Month", day.month), ("Year", day.year)):
            page.get_by_role("group", name=legend).get_by_label(label).fill(str(value))
    click(page, "Continue")
    shot(page, "proving-check-answers")
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
        ("/account/services", "your-services"),
        ("/account/activity", "activity"),
        ("/account/security", "security"),
        ("/account/identity", "your-identity"),
    ):
        page.goto(f"{issuer}{path}")
        shot(page, name)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        settings = load_settings(
            env="development",
            database_url=f"sqlite:///{tmp}/broker.db",
            key_encryption_key_file=Path(tmp) / "kek",
            issuer=f"http://127.0.0.1:{port}",
            log_level="warning",
        )
        configure_logging(settings)
        services = build_services(settings)
        rp_url = f"http://127.0.0.1:{free_port()}"
        server = start(create_app(settings, services), port)
        details = seed(services, rp_url, Path(tmp))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": WIDTH, "height": 700})
            context.set_default_timeout(10_000)
            # The demo service is not running here: its callback answers with a blank page.
            context.route(f"{rp_url}/**", lambda route: route.fulfill(content_type="text/html", body=""))
            walk(context.new_page(), settings.issuer, services, details["password"], f"{rp_url}/callback")
            browser.close()
        server.should_exit = True


if __name__ == "__main__":
    main()
