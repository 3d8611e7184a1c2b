"""Very long authorization requests (issue: a 100 KB request was cut off with the server's bare 400).

Up to the server's limit on the request target (128 KB), the broker answers as OAuth says: an oversized
request goes back to the client as ``invalid_request`` once its redirect URI is trusted, and is an
error page before that. Tried on the in-process live broker and on a real ``broker serve`` process."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from broker.hardening import MAX_REQUEST_TARGET_BYTES
from broker.oidc.authorization import MAX_AUTHORIZE_PARAMS
from tests.command import broker_process
from tests.command import run_broker as run
from tests.e2e.agent import Callback
from tests.e2e.conftest import free_port
from tests.test_cli import wait_ready

SQLITE_ONLY = pytest.mark.parametrize("broker", ["sqlite"], indirect=True)  # storage plays no part
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def _authorize(issuer: str, client_id: str, redirect_uri: str, padding: int, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": "st",
        "nonce": "n",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "login_hint": "a" * padding,
        **extra,
    }
    return f"{issuer}/authorize?" + urlencode(params)


def _get(url: str) -> httpx.Response:
    """A GET of any length (httpx refuses URLs of 64 KB and more; browsers send them)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        answer = connection.getresponse()
        return httpx.Response(answer.status, headers=answer.getheaders(), content=answer.read())
    finally:
        connection.close()


def _invalid_request_at_client(response: httpx.Response, issuer: str, redirect_uri: str) -> dict[str, str]:
    assert response.status_code == 302, (response.status_code, response.text[:200])
    location = response.headers["location"]
    assert location.startswith(redirect_uri) and len(location) < 2048, location[:300]
    params = Callback(location).params
    assert params["error"] == "invalid_request" and "exceed" in params["error_description"]
    assert params["iss"] == issuer and params["state"] == "st"
    return params


@SQLITE_ONLY
def test_an_oversized_request_is_invalid_request_at_the_client_on_the_live_broker(make_rp, http):
    rp = make_rp()
    # Over the application's limit, below what the test server's parser takes (64 KB).
    url = _authorize(rp.issuer, rp.client_id, rp.redirect_uri, MAX_AUTHORIZE_PARAMS + 1024)
    _invalid_request_at_client(http.get(url), rp.issuer, rp.redirect_uri)
    # Just under the limit: an ordinary request, on its way to the sign-in page.
    fits = http.get(_authorize(rp.issuer, rp.client_id, rp.redirect_uri, MAX_AUTHORIZE_PARAMS - 2048))
    assert fits.status_code == 303 and "/sign-in/" in fits.headers["location"]
    # A state that large cannot be sent back: the error goes without it.
    huge_state = http.get(_authorize(rp.issuer, rp.client_id, rp.redirect_uri, 0, state="s" * 40_000))
    params = Callback(huge_state.headers["location"]).params
    assert params["error"] == "invalid_request" and "state" not in params


@SQLITE_ONLY
def test_an_oversized_request_from_an_unknown_client_gets_an_error_page(make_rp, http):
    rp = make_rp()
    for client_id, redirect_uri in (
        ("no-such-client", rp.redirect_uri),
        (rp.client_id, "https://evil.example/cb"),
    ):
        response = http.get(
            _authorize(rp.issuer, client_id, redirect_uri, MAX_AUTHORIZE_PARAMS + 1024),
            headers={"Accept": "text/html"},
        )
        assert response.status_code == 400 and "<html" in response.text
        assert "location" not in response.headers


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A real `broker serve` process, with a relying service registered."""
    home: Path = tmp_path_factory.mktemp("serve")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {"BROKER_ISSUER": issuer}
    created = run(
        ["clients", "create", "--name", "Svc", "--redirect-uri", "http://localhost/cb", "--claims", "email"],
        home,
        env,
    )
    client = json.loads(created.stdout)
    proc = broker_process(["serve", "--port", str(port)], home, env)
    try:
        wait_ready(issuer, proc)
        yield issuer, client
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize("kilobytes", [40, 70, 100, 120])
def test_broker_serve_answers_requests_up_to_128_kb_as_oauth_says(served, kilobytes):
    issuer, client = served
    url = _authorize(issuer, client["client_id"], "http://localhost/cb", kilobytes * 1024)
    assert len(url) > kilobytes * 1024
    _invalid_request_at_client(_get(url), issuer, "http://localhost/cb")


def test_broker_serve_still_reads_ordinary_requests_and_cuts_off_only_past_its_limit(served):
    issuer, client = served
    ordinary = _get(_authorize(issuer, client["client_id"], "http://localhost/cb", 10))
    assert ordinary.status_code == 303 and "/sign-in/" in ordinary.headers["location"]
    past = _authorize(issuer, client["client_id"], "http://localhost/cb", MAX_REQUEST_TARGET_BYTES + 1024)
    assert _get(past).status_code == 400  # the server's own answer, and it lives on
    assert httpx.get(f"{issuer}/healthz").json() == {"status": "ok"}
