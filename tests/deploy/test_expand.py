"""Expand, then contract: an instance of the first release keeps serving while this release's
migrations run against its database, and both releases then serve side by side.

The first release is checked out from git into a temporary worktree and run from there; every
migration since is additive (new tables, nullable columns or columns with database defaults), so the
old code never sees a change it cannot live with. A migration that removes or renames anything
(a contract step) ships only in a release after every instance runs code that no longer uses it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.command import BROKER, run_broker
from tests.e2e.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _first_commit() -> str | None:
    if not shutil.which("git") or not (ROOT / ".git").exists():
        return None
    found = subprocess.run(
        ["git", "-C", str(ROOT), "rev-list", "--max-parents=0", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.split()[0] if found.returncode == 0 and found.stdout.strip() else None


FIRST = _first_commit()
pytestmark = pytest.mark.skipif(
    FIRST is None, reason="expand test skipped: no git history to take the first release from"
)


def _env(tmp_path: Path, code: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
    env.update(
        {
            "BROKER_DATABASE_URL": f"sqlite:///{tmp_path}/broker.db",
            "BROKER_KEY_ENCRYPTION_KEY_FILE": str(tmp_path / "kek"),
            "BROKER_ENV": "test",
        }
    )
    if code is not None:
        env["PYTHONPATH"] = str(code)  # the old release's packages shadow this checkout's
    return env


def _broker(code: Path | None, tmp_path: Path, *args: str, port: int | None = None) -> list[str]:
    if code is None:
        return [BROKER, *args]
    return [sys.executable, "-c", "from broker.cli import main; main()", *args]


# Commands of the first release, one after another in one process of its code (a process each would
# cost 1.5 s of imports), each run as its entry point runs it; the first that fails stops the rest.
FIRST_RELEASE_COMMANDS = """
import json, sys
from broker.cli import main
for args in json.loads(sys.argv[1]):
    sys.argv = ["broker", *args]
    try:
        main()
    except SystemExit as exit:
        if exit.code:
            raise
"""


def _first_release_commands(code: Path, work: Path, *commands: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", FIRST_RELEASE_COMMANDS, json.dumps(commands)],
        cwd=work,
        env=_env(work, code),
        capture_output=True,
        text=True,
        check=False,
    )


def _wait(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("instance did not become ready")


def _serve(code: Path | None, tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = _env(tmp_path, code)
    env["BROKER_ISSUER"] = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [*_broker(code, tmp_path, "serve", "--port", str(port))],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait(f"http://127.0.0.1:{port}", proc)
    return proc


def _discovery_and_keys(port: int) -> None:
    meta = httpx.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration", timeout=5).json()
    assert meta["issuer"] == f"http://127.0.0.1:{port}"
    assert httpx.get(meta["jwks_uri"], timeout=5).json()["keys"]


def _token_flow(port: int, client_id: str, secret: str, redirect: str, email: str) -> None:
    """A full sign-in on one instance: authorize, password, emailed code read from the outbox page,
    consent, code, token (the old release's pages are driven by their form field names)."""
    import re
    from urllib.parse import parse_qs, urlsplit

    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, follow_redirects=False, timeout=15) as http:
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect,
            "scope": "openid email",
            "state": "s",
            "nonce": "n",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        }
        location = http.get("/authorize", params=params).headers["location"]
        for _ in range(8):
            if location.startswith(redirect):
                break
            page = http.get(location)
            if page.is_redirect:
                location = str(httpx.URL(location).join(page.headers["location"]))
                continue
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            path = urlsplit(location).path
            if path.startswith("/sign-in/") and path.endswith("/code"):
                outbox = http.get("/dev/outbox").text
                code = re.findall(r"\b(\d{6})\b", outbox)[0]
                data = {"csrf_token": token, "code": code}
            elif path.startswith("/sign-in/"):
                data = {"csrf_token": token, "email": email, "password": "velvet otter cabbage lantern"}
            else:
                data = {"csrf_token": token, "decision": "agree"}
            answer = http.post(location, data=data)
            location = str(httpx.URL(location).join(answer.headers["location"]))
        code = parse_qs(urlsplit(location).query)["code"][0]
        tokens = http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            },
            auth=(client_id, secret),
        )
        assert tokens.status_code == 200, tokens.text
        assert (
            http.get(
                "/userinfo", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}
            ).json()["email"]
            == email
        )


def test_the_first_release_keeps_serving_while_the_schema_expands(tmp_path):
    old = tmp_path / "first-release"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), FIRST],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "run"
    work.mkdir()
    try:
        redirect = "http://localhost:9999/callback"
        account = ["--email", "old@example.org", "--password", "velvet otter cabbage lantern", "--verified"]
        done = _first_release_commands(
            old,
            work,
            ["migrate"],
            ["clients", "create", "--name", "Old", "--redirect-uri", redirect, "--claims", "email"],
            ["accounts", "create", *account],
        )
        assert done.returncode == 0, done.stderr
        client = next(json.loads(line) for line in done.stdout.splitlines() if '"client_id"' in line)
        old_port = free_port()
        old_instance = _serve(old, work, old_port)
        try:
            _token_flow(old_port, client["client_id"], client["client_secret"], redirect, "old@example.org")
            settings = {k: v for k, v in _env(work, None).items() if k.startswith("BROKER_")}
            migrated = run_broker(["migrate"], work, settings)
            assert migrated.returncode == 0, migrated.stderr  # expand, while the old release serves
            _discovery_and_keys(old_port)
            _token_flow(old_port, client["client_id"], client["client_secret"], redirect, "old@example.org")
            new_port = free_port()
            new_instance = _serve(None, work, new_port)
            try:
                _token_flow(
                    new_port, client["client_id"], client["client_secret"], redirect, "old@example.org"
                )
                _token_flow(
                    old_port, client["client_id"], client["client_secret"], redirect, "old@example.org"
                )
            finally:
                new_instance.terminate()
                new_instance.wait(timeout=20)
        finally:
            old_instance.terminate()
            old_instance.wait(timeout=20)
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
            check=False,
            capture_output=True,
        )
