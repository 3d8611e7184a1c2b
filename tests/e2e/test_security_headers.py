"""Every citizen page, signed in and on the way in, sends a Content-Security-Policy that allows no inline or
evaluated script and no framing; pages about a person are never stored by browsers or proxies. And no
template carries inline script, an inline event handler or a style attribute, which that policy would
block. Driven over HTTP (fast); the pages themselves are tested in Chromium elsewhere."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from tests.e2e.agent import PASSWORD, UserAgent, created_next, latest_code

TEMPLATES = Path(__file__).resolve().parents[2] / "broker" / "web" / "templates"
PERSONAL = re.compile(r"^/(account|sign-in|create-account|reset-password|consent|identity|vouch|logout)(/|$)")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
INLINE = (
    ("inline script", INLINE_SCRIPT),
    ("inline event handler", EVENT_HANDLER),
    ("style attribute", STYLE_ATTRIBUTE),
)


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            parsed.setdefault(words[0].lower(), words[1:])
    return parsed


class HeaderAudit:
    """Looks at every HTML response a person's browser receives."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.paths: set[str] = set()

    def __call__(self, response: httpx.Response) -> None:
        if not response.headers.get("content-type", "").startswith("text/html"):
            return
        path = urlsplit(str(response.request.url)).path
        self.paths.add(path)
        csp = directives(response.headers.get("content-security-policy", ""))
        script_src = csp.get("script-src", csp.get("default-src"))
        if script_src is None:
            self.problems.append(f"{path}: no script-src or default-src")
        elif {"'unsafe-inline'", "'unsafe-eval'"} & set(script_src):
            self.problems.append(f"{path}: script-src allows {' '.join(script_src)}")
        if csp.get("frame-ancestors") != ["'none'"]:
            self.problems.append(f"{path}: frame-ancestors is {csp.get('frame-ancestors')}")
        if PERSONAL.match(path) and "no-store" not in response.headers.get("cache-control", ""):
            self.problems.append(f"{path}: Cache-Control is {response.headers.get('cache-control')!r}")
        response.read()
        for name, pattern in INLINE:
            if match := pattern.search(response.text):  # what the policy would block, so the page breaks
                self.problems.append(f"{path}: {name}: {match.group(0)[:80]}")


def audited_agent(broker, audit: HeaderAudit) -> UserAgent:  # type: ignore[no-untyped-def]
    ua = UserAgent(broker)
    ua.http.headers["accept"] = (
        "text/html,application/xhtml+xml"  # as a browser asks, so errors come as pages
    )
    ua.http.event_hooks["response"].append(audit)
    return ua


def test_every_citizen_page_sends_the_security_headers(broker, rp, person):
    audit = HeaderAudit()
    email = f"headers-{re.sub(r'[^a-z0-9]', '', person)[:8]}-new@example.org"

    # Create an account: every step, each once with an error.
    ua = audited_agent(broker, audit)
    here = ua.go(rp.authorization_url())
    ua.submit(here, {"email": "", "password": ""})
    journey = here.replace("/sign-in/", "/create-account/")
    ua.go(journey)
    ua.submit(journey, {"email": ""})
    here = ua.submit(journey, {"email": email})
    ua.submit(here, {"code": ""})
    here = ua.submit(here, {"code": latest_code(broker, email)})
    ua.submit(here, {"password": "", "confirm": ""})
    here = ua.submit(here, {"password": PASSWORD, "confirm": PASSWORD})
    ua.submit(here, {})
    ua.submit(ua.submit(here, {"method": "totp"}), {"code": ""})
    ua.go(here.replace("/second-factor", "/passkey"))
    ua.go(here.replace("/second-factor", "/phone"))
    here = ua.submit(here, {"method": "email"})
    assert here.endswith("/created"), here
    here = ua.go(urljoin(here, created_next(ua.last_page)))
    assert "/consent/" in here, here
    ua.submit(here, {"decision": "agree"})

    # Signed in: the account pages, proving an identity, vouching, the agreement, signing out.
    for path in (
        "/account/services",
        "/account/activity",
        "/account/security",
        "/account/security/email",
        "/account/security/backup",
        "/account/security/backup/phone",
        "/account/password",
        "/account/identity",
        "/account/vouches",
        "/account/delete",
        "/identity/prove",
        "/identity/passport",
        "/identity/driving-licence",
        "/identity/no-photo-id",
        "/identity/could-not-check",
        "/identity/address",
        "/identity/questions",
        "/identity/result",
        "/identity/vouching/start",
        "/identity/vouching/invite",
        "/identity/vouching",
        "/vouch/not-a-real-invitation",
        f"/services/{rp.client_id}/agreement",
        "/logout",
        "/no-such-page",
    ):
        ua.go(f"{broker.url}{path}")
    ua.submit(f"{broker.url}/account/password", {})
    ua.submit(f"{broker.url}/identity/passport", {})
    ua.submit(f"{broker.url}/identity/vouching/start", {})
    ua.submit(f"{broker.url}/account/delete", {})
    ua.close()

    # Signing in with a password and a code, the lost second factor, a forgotten password.
    ua = audited_agent(broker, audit)
    here = ua.go(rp.authorization_url())
    code_page = ua.submit(here, {"email": person, "password": PASSWORD})
    ua.submit(code_page, {"code": "000000"})
    lost = ua.go(code_page.replace("/code", "/lost-factor"))
    ua.submit(ua.submit(lost, {}), {"code": ""})
    reset = here.replace("/sign-in/", "/reset-password/")
    ua.go(reset)
    ua.submit(reset, {"email": ""})
    ua.submit(ua.submit(reset, {"email": person}), {"code": ""})
    ua.go(f"{broker.url}/authorize?response_type=code&client_id=nobody&redirect_uri=https://evil.example/")
    ua.close()

    for expected in ("/account/security", "/create-account/", "/reset-password/", "/consent/", "/identity/"):
        assert any(path.startswith(expected) for path in audit.paths), f"never reached {expected}"
    assert not audit.problems, "pages without the right headers:\n" + "\n".join(sorted(set(audit.problems)))


def test_no_template_has_inline_script_event_handlers_or_style_attributes():
    problems = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text()
        for name, pattern in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{template.relative_to(TEMPLATES)}:{line}: {name}: {match.group(0)[:80]}")
    assert not problems, "\n".join(problems)
