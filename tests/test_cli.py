"""The `broker` command on an empty directory. Each command runs as its entry point runs it, in this
process (tests/command.py); the broker serving is a real process of the installed `broker` script."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.command import BROKER, broker_process
from tests.command import run_broker as run
from tests.conftest import DATABASES, fresh_postgres_database
from tests.e2e.conftest import free_port


def wait_ready(url: str, proc: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            response = httpx.get(f"{url}/readyz")
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("broker did not become ready")


def test_serve_on_an_empty_directory_creates_its_database_and_is_ready(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
    env["BROKER_ISSUER"] = f"http://127.0.0.1:{port}"
    # The operator's own name and footer links (a brand of their own).
    env["BROKER_SERVICE_NAME"] = "Sign in to Example Council"
    env["BROKER_FOOTER_LINKS"] = '[{"text": "Accessibility statement", "href": "https://example.gov/a11y"}]'
    (tmp_path / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    env["BROKER_LOGO_FILE"] = str(tmp_path / "logo.svg")
    proc = subprocess.Popen(
        [BROKER, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = wait_ready(f"http://127.0.0.1:{port}", proc)
        assert ready.json()["checks"] == {"database": True, "keys": True}
        page = httpx.get(f"http://127.0.0.1:{port}/no-such-page", headers={"Accept": "text/html"}).text
        assert "Sign in to Example Council" in page and 'href="https://example.gov/a11y"' in page
        assert 'src="/brand/logo"' in page
        logo = httpx.get(f"http://127.0.0.1:{port}/brand/logo")
        assert logo.headers["content-type"] == "image/svg+xml" and logo.content.startswith(b"<svg")
        assert (tmp_path / "var" / "broker.db").exists()
        assert oct((tmp_path / "var" / "key-encryption-key").stat().st_mode & 0o777) == "0o600"
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        jwks = httpx.get(f"http://127.0.0.1:{port}/.well-known/jwks.json")
        assert "max-age" in jwks.headers["cache-control"]
        assert {k["alg"] for k in jwks.json()["keys"]} == {"ES256", "RS256"}
        assert all("d" not in k for k in jwks.json()["keys"])
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_logs_hold_no_personal_data_or_secrets(tmp_path):
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {"BROKER_ISSUER": issuer, "BROKER_LOG_LEVEL": "debug", "BROKER_LOG_FORMAT": "json"}
    client = json.loads(
        run(
            [
                "clients",
                "create",
                "--name",
                "Svc",
                "--redirect-uri",
                "http://localhost/cb",
                "--claims",
                "email",
            ],
            tmp_path,
            env,
        ).stdout
    )
    email, password = "private.person@example.org", "my secret passphrase"
    assert (
        run(["accounts", "create", "--email", email, "--password", password], tmp_path, env).returncode == 0
    )
    proc = broker_process(["serve", "--port", str(port)], tmp_path, env)
    try:
        wait_ready(issuer, proc)
        tokens = sign_in_and_redeem(issuer, client, email, password)
    finally:
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=20)
    assert not stdout.strip()  # every log line goes to standard error
    assert tokens["id_token"] and tokens["access_token"]  # the whole flow ran, so its logs are here
    lines = [line for line in stderr.splitlines() if line.strip()]
    not_json = [line for line in lines if not line.startswith("{")]
    assert lines and not not_json, not_json[:5]
    assert all(json.loads(line) for line in lines)  # BROKER_LOG_FORMAT=json: one object a line
    events = {json.loads(line).get("event") for line in lines}
    assert len(events) > 3
    code = tokens["_code"]
    for secret in (email, password, client["client_secret"], "private.person", code, tokens["access_token"]):
        assert secret not in stderr
    assert tokens["_security_code"] not in stderr


VERIFIER = "a-code-verifier-of-at-least-forty-three-characters"


def sign_in_and_redeem(issuer: str, client: dict[str, str], email: str, password: str) -> dict[str, str]:
    """A person signs in (a wrong password first), types the emailed code, agrees; the service redeems."""

    def csrf(page: httpx.Response) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, "no CSRF token on the page"
        return found.group(1)

    with httpx.Client(base_url=issuer) as http:
        start = http.get(
            "/authorize",
            params={
                "response_type": "code",
                "client_id": client["client_id"],
                "redirect_uri": "http://localhost/cb",
                "scope": "openid email",
                "code_challenge": base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest())
                .rstrip(b"=")
                .decode(),
                "code_challenge_method": "S256",
                "state": "st",
            },
        )
        sign_in = start.headers["location"]
        token = csrf(http.get(sign_in))
        http.post(sign_in, data={"email": email, "password": "wrong " + password, "csrf_token": token})
        code_page = http.post(sign_in, data={"email": email, "password": password, "csrf_token": token})
        outbox = http.get("/dev/outbox", params={"to": email}).text
        security_code = re.findall(r"\b(\d{6})\b", outbox)[0]
        page = http.post(code_page.headers["location"], data={"code": security_code, "csrf_token": token})
        while page.is_redirect:  # back through /authorize to the consent page
            page = http.get(page.headers["location"])
        action = re.search(r'<form method="post" action="([^"]+)"', page.text)
        assert action, "no consent form"
        # Signed in now: the consent form's token is bound to the new session, not the one before it.
        back = http.post(action.group(1), data={"decision": "agree", "csrf_token": csrf(page)})
        while not back.headers["location"].startswith("http://localhost/cb"):
            back = http.get(back.headers["location"])
        code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
        tokens = http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "http://localhost/cb",
                "code_verifier": VERIFIER,
            },
            auth=(client["client_id"], client["client_secret"]),
        ).json()
        assert "access_token" in tokens, tokens
        http.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).raise_for_status()
        return {**tokens, "_code": code, "_security_code": security_code}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BROKER_ISSUER", "not a url"),
        ("BROKER_LOGO_FILE", "missing.svg"),
        ("BROKER_LOGO_FILE", "logo.gif"),
        ("BROKER_FOOTER_LINKS", "not json"),
        ("BROKER_NOTIFY_TEMPLATES", "{bad"),
        ("BROKER_DATABASE_URL", "postgresql://broker:hunter2secret@127.0.0.1:1/nothing"),
    ],
)
def test_invalid_setting_stops_start_up_with_one_line(tmp_path, name, value):
    (tmp_path / "logo.gif").write_bytes(b"GIF89a")
    result = run(["serve"], tmp_path, {name: value})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert name in result.stderr and "Traceback" not in result.stderr
    assert "hunter2secret" not in result.stderr  # a database password is never printed


def test_wrong_key_encryption_key_is_refused_at_start_up(tmp_path):
    assert run(["keys", "rotate", "--force"], tmp_path).returncode == 0  # creates keys under the first KEK
    (tmp_path / "other-kek").write_text("A" * 43 + "=\n")
    result = run(["serve"], tmp_path, {"BROKER_KEY_ENCRYPTION_KEY_FILE": str(tmp_path / "other-kek")})
    assert result.returncode == 2
    assert "different key-encryption key" in result.stderr and "Traceback" not in result.stderr


def test_production_never_generates_a_key_encryption_key(tmp_path):
    env = {
        "BROKER_ENV": "production",
        "BROKER_ISSUER": "https://broker.example",
        "BROKER_KEY_ENCRYPTION_KEY_FILE": str(tmp_path / "secrets" / "kek"),
    }
    result = run(["serve"], tmp_path, env)
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert not (tmp_path / "secrets" / "kek").exists()


def test_production_refuses_development_defaults(tmp_path):
    result = run(["serve"], tmp_path, {"BROKER_ENV": "production"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "BROKER_ISSUER must be https" in result.stderr
    assert "not the development default" in result.stderr
    demo = run(["clients", "create", "--name", "Demo", "--redirect-uri", "https://rp.example/cb"], tmp_path)
    assert demo.returncode == 0
    (tmp_path / "kek").write_text("A" * 43 + "=\n")
    env = {
        "BROKER_ENV": "production",
        "BROKER_ISSUER": "https://broker.example",
        "BROKER_KEY_ENCRYPTION_KEY_FILE": str(tmp_path / "kek"),
    }
    import sqlite3

    with sqlite3.connect(tmp_path / "var" / "broker.db") as conn:  # rename it as the demo's, and its MOU
        conn.execute("UPDATE client SET client_id = 'demo-service'")
        conn.execute("UPDATE mou SET client_id = 'demo-service'")
    refused = run(["serve"], tmp_path, env)
    assert refused.returncode == 2 and "demo relying service" in refused.stderr


def test_keys_rotate_and_list(tmp_path):
    # The next keys were published just now: relying services may not have them yet.
    refused = run(["keys", "rotate"], tmp_path)
    assert refused.returncode == 1 and "may cache the JWKS" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert run(["keys", "rotate", "--force"], tmp_path).returncode == 0
    listed = json.loads(run(["keys", "list", "--json"], tmp_path).stdout)
    assert sorted(k["state"] for k in listed if k["alg"] == "ES256") == ["current", "next", "retired"]
    retired = run(["keys", "retire", next(k["kid"] for k in listed if k["state"] == "next")], tmp_path)
    assert retired.returncode == 0
    assert run(["keys", "retire", "nope"], tmp_path).returncode == 1


def test_clients_and_accounts_create(tmp_path):
    result = run(
        [
            "clients",
            "create",
            "--name",
            "Apply for a thing",
            "--redirect-uri",
            "https://rp.example/cb",
            "--claims",
            "email,phone_number",
            "--post-logout-redirect-uri",
            "https://rp.example/bye",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    client = json.loads(result.stdout)
    assert client["client_id"] and client["client_secret"]
    assert client["sector_identifier"] == "rp.example"
    assert "email_verified" in client["claims"]
    bad = run(["clients", "create", "--name", "x", "--redirect-uri", "http://evil.example/cb"], tmp_path)
    assert bad.returncode == 2 and "https" in bad.stderr
    no_keys = run(
        [
            "clients",
            "create",
            "--name",
            "x",
            "--redirect-uri",
            "https://rp.example/cb",
            "--auth-method",
            "private_key_jwt",
        ],
        tmp_path,
    )
    assert no_keys.returncode == 2 and "jwks" in no_keys.stderr
    made = run(
        [
            "accounts",
            "create",
            "--email",
            "Someone@Example.org",
            "--password",
            "a long passphrase",
            "--verified",
        ],
        tmp_path,
    )
    assert made.returncode == 0 and json.loads(made.stdout)["email_verified"] is True
    again = run(
        ["accounts", "create", "--email", "someone@example.org", "--password", "another one"], tmp_path
    )
    assert again.returncode == 2 and "already exists" in again.stderr


def test_audit_verify_names_an_edited_removed_or_reordered_entry(tmp_path):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import delete, update

    from broker.audit.log import record
    from broker.store.db import make_engine, make_sessionmaker, transaction
    from broker.store.migrate import upgrade
    from broker.store.models import AuditEvent

    url = f"sqlite:///{tmp_path}/var/broker.db"
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    t0 = datetime(2026, 11, 23, tzinfo=UTC)
    with transaction(factory) as db:
        for i in range(6):
            record(db, "sign_in.success", now=t0 + timedelta(minutes=i), actor=f"a{i}", subject=f"a{i}")
    assert run(["audit", "verify"], tmp_path).returncode == 0

    def broken_at() -> str:
        result = run(["audit", "verify"], tmp_path)
        assert result.returncode == 1
        return result.stderr

    with transaction(factory) as db:  # edited
        db.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(actor="someone-else"))
    assert "entry 4" in broken_at()
    with transaction(factory) as db:  # put back
        db.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(actor="a3"))
    assert run(["audit", "verify"], tmp_path).returncode == 0

    fields = ("at", "action", "actor", "subject", "details", "prev_hash", "hash")

    def swap(db, a: int, b: int) -> None:
        rows = {r.seq: r for r in db.query(AuditEvent).filter(AuditEvent.seq.in_([a, b]))}
        saved = {seq: {f: getattr(row, f) for f in fields} for seq, row in rows.items()}
        for f in fields:
            setattr(rows[a], f, saved[b][f])
            setattr(rows[b], f, saved[a][f])

    with transaction(factory) as db:  # reordered
        swap(db, 5, 6)
    assert "entry 5" in broken_at()
    with transaction(factory) as db:
        swap(db, 5, 6)
    with transaction(factory) as db:  # removed
        db.execute(delete(AuditEvent).where(AuditEvent.seq == 2))
    assert "entry 3" in broken_at()
    engine.dispose()


@pytest.mark.parametrize("command", [["vouch"], ["proofing"]])
def test_commands_not_built_yet_are_absent(tmp_path, command):
    assert run(command, tmp_path).returncode != 0


def test_simulated_registry_entries_are_added_and_bad_ones_refused(tmp_path):
    passport = '{"family_name": "Smith", "given_names": "Jane", "birth_date": "1985-03-12", "expiry_date": "2031-01-01"}'
    added = run(["simulated", "put", "uk_passport", "123456789", passport], tmp_path)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout) == {"kind": "uk_passport", "reference": "123456789"}
    assert (
        run(["simulated", "put", "uk_passport", "123456789", passport], tmp_path).returncode == 0
    )  # replaced
    for args, words in (
        (["simulated", "put", "bank_statement", "1", "{}"], "kind must be one of"),
        (["simulated", "put", "person", "SMITH|1985-03-12", "not json"], "DATA must be a JSON object"),
    ):
        refused = run(args, tmp_path)
        assert refused.returncode == 2 and words in refused.stderr and "Traceback" not in refused.stderr
    production = run(
        ["simulated", "put", "uk_passport", "1", passport], tmp_path, env={"BROKER_ENV": "production"}
    )
    assert production.returncode == 2 and "not production" in production.stderr


def test_staff_referees_and_identities_commands(tmp_path):
    created = run(
        ["accounts", "create", "--email", "gp@example.org", "--password", "velvet otter cabbage lantern"],
        tmp_path,
    )
    assert created.returncode == 0, created.stderr
    granted = run(["staff", "grant", "--email", "gp@example.org", "--role", "vouch_reviewer"], tmp_path)
    assert granted.returncode == 0 and json.loads(granted.stdout)["roles"] == ["vouch_reviewer"]
    referee = run(
        [
            "referees",
            "add",
            "--email",
            "gp@example.org",
            "--occupation",
            "GP",
            "--body",
            "General Medical Council",
            "--number",
            "7654321",
            "--evidence",
            "checked on the GMC register",
        ],
        tmp_path,
    )
    assert referee.returncode == 0 and json.loads(referee.stdout)["occupation"] == "GP"
    revoked = run(["identities", "revoke", "--email", "gp@example.org", "--reason", "test"], tmp_path)
    assert revoked.returncode == 0 and json.loads(revoked.stdout)["rescored"] == 0
    for args, words in (
        (["staff", "grant", "--email", "gp@example.org", "--role", "superuser"], "role must be one of"),
        (["identities", "revoke", "--email", "nobody@example.org", "--reason", "x"], "no account"),
    ):
        refused = run(args, tmp_path)
        assert refused.returncode == 2 and words in refused.stderr and "Traceback" not in refused.stderr


def test_mou_export_and_import_as_yaml(tmp_path):
    import yaml

    created = run(
        [
            "clients",
            "create",
            "--name",
            "Fishing licences",
            "--redirect-uri",
            "https://fish.example/cb",
            "--claims",
            "email",
        ],
        tmp_path,
    )
    assert created.returncode == 0, created.stderr
    exported = run(["mou", "export"], tmp_path)
    assert exported.returncode == 0, exported.stderr
    document = yaml.safe_load(exported.stdout)
    [mou] = document["mous"]
    assert (
        mou["versions"][0]["status"] == "approved" and mou["versions"][0]["attributes"][0]["claim"] == "email"
    )

    mou["versions"][0]["purpose"] = "To issue fishing licences and remind people to renew them."
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(document))
    author = "author@example.org"
    # The author is a staff account with the policy_author role (recorded as the drafts' author, so
    # the same person cannot approve them in the console); a made-up name is refused.
    made_up = run(["mou", "import", str(policy), "--author", "policy-repo"], tmp_path)
    assert made_up.returncode == 2 and "policy_author" in made_up.stderr
    assert (
        run(
            ["accounts", "create", "--email", author, "--password", "a long fixture passphrase"], tmp_path
        ).returncode
        == 0
    )
    no_role = run(["mou", "import", str(policy), "--author", author], tmp_path)
    assert no_role.returncode == 2 and "policy_author" in no_role.stderr
    assert run(["staff", "grant", "--email", author, "--role", "policy_author"], tmp_path).returncode == 0
    imported = run(["mou", "import", str(policy), "--author", author.upper()], tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout) == {"drafted": [{"reference": mou["reference"], "version": 2}]}
    again = run(["mou", "import", str(policy), "--author", author], tmp_path)
    assert json.loads(again.stdout) == {"drafted": []}  # nothing changed since
    versions = yaml.safe_load(run(["mou", "export", "--reference", mou["reference"]], tmp_path).stdout)[
        "mous"
    ][0]["versions"]
    assert [(v["number"], v["status"]) for v in versions] == [
        (1, "approved"),
        (2, "draft"),
    ]  # approval stays two-person

    policy.write_text("mous: [{reference: X}]")
    broken = run(["mou", "import", str(policy), "--author", author], tmp_path)
    assert broken.returncode == 2 and "cannot import" in broken.stderr and "Traceback" not in broken.stderr


def test_mou_import_keeps_one_mou_per_service_and_refuses_terms_the_console_would(tmp_path):
    import yaml

    for name, uri in (("Fishing licences", "https://fish.example/cb"), ("Boats", "https://boats.example/cb")):
        created = run(
            ["clients", "create", "--name", name, "--redirect-uri", uri, "--claims", "email"], tmp_path
        )
        assert created.returncode == 0, created.stderr
    author = "author@example.org"
    run(["accounts", "create", "--email", author, "--password", "a long fixture passphrase"], tmp_path)
    run(["staff", "grant", "--email", author, "--role", "policy_author"], tmp_path)
    exported = yaml.safe_load(run(["mou", "export"], tmp_path).stdout)["mous"]
    by_name = {m["versions"][0]["organisation"]: m for m in exported}
    fish, boats = by_name["Fishing licences"], by_name["Boats"]
    policy = tmp_path / "policy.yaml"

    def refused(entry: dict[str, object], words: str) -> None:
        policy.write_text(yaml.safe_dump({"mous": [entry]}))
        result = run(["mou", "import", str(policy), "--author", author], tmp_path)
        assert result.returncode == 2 and words in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr

    # A second MOU for a service that has one (its versions would mix with the first's).
    refused({**fish, "reference": "MOU-fishing-2"}, f"service {fish['client_id']} already has the MOU")
    # A stored reference under another service: never drafted into that other service's MOU.
    refused({**boats, "reference": fish["reference"]}, f"{fish['reference']} is the MOU of service")
    # Terms the console would refuse in a draft.
    p9 = [{**fish["versions"][0], "attributes": [{"claim": "email", "min_level": "P9"}]}]
    refused({**fish, "versions": p9}, "The minimum level for email must be one of P0, P1, P2, P3")
    # Text where a boolean belongs is refused, not read as true (every problem with its line).
    quoted = [{**fish["versions"][0], "attributes": [{"claim": "email", "required": "false"}]}]
    refused({**fish, "versions": quoted}, "attributes.0.required: Input should be a valid boolean")
    refused({**fish, "versions": [{**fish["versions"][0], "organisation": None}]}, "valid string")
    after = yaml.safe_load(run(["mou", "export"], tmp_path).stdout)["mous"]
    assert sorted((m["reference"], len(m["versions"])) for m in after) == sorted(
        [(fish["reference"], 1), (boats["reference"], 1)]
    )  # nothing was drafted


def test_clients_create_keeps_the_consoles_rules(tmp_path):
    """`broker clients create` registers through the console's service: its refusals are the console's,
    each on one line, and it stores nothing it refuses."""
    private = tmp_path / "private.json"
    private.write_text(json.dumps({"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "d": "secret"}))
    unreadable = tmp_path / "unreadable.json"
    unreadable.write_text("not json")
    for extra, words in (
        (["--auth-method", "private_key_jwt", "--jwks-file", str(private)], "public keys only"),
        (["--auth-method", "private_key_jwt", "--jwks-file", str(unreadable)], "cannot read a JWKS"),
        (["--claims", "email,shoe_size"], "Unknown claims: shoe_size"),
        (["--id-token-alg", "HS256"], "ES256 or RS256"),
    ):
        refused = run(
            ["clients", "create", "--name", "x", "--redirect-uri", "https://rp.example/cb", *extra], tmp_path
        )
        assert refused.returncode == 2 and words in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    nameless = run(["clients", "create", "--name", " ", "--redirect-uri", "https://rp.example/cb"], tmp_path)
    assert nameless.returncode == 2 and "Enter the service's name" in nameless.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "var" / "broker.db") as conn:
        assert conn.execute("SELECT count(*) FROM client").fetchone() == (0,)


@pytest.mark.parametrize("database", DATABASES)
def test_text_that_does_not_fit_its_column_is_one_line_naming_the_option(tmp_path, database):
    """Text longer than its column, or holding a NUL byte, is refused before it reaches the database:
    one line naming the option, exit status 2, no traceback, nothing stored; text exactly as long as
    its column is stored, on PostgreSQL as on SQLite."""
    from contextlib import ExitStack

    from sqlalchemy import create_engine, text

    from broker.store.bounds import column_length
    from broker.store.models import Client, IdentityRecord, Referee

    with ExitStack() as stack:
        if database == "postgres":
            url = stack.enter_context(fresh_postgres_database())
        else:
            url = f"sqlite:///{tmp_path / 'broker.db'}"
        env = {"BROKER_DATABASE_URL": url}
        email = "referee@example.org"
        created = run(
            ["accounts", "create", "--email", email, "--password", "velvet otter cabbage"], tmp_path, env
        )
        assert created.returncode == 0, created.stderr
        client = ["clients", "create", "--redirect-uri", "https://rp.example/cb"]
        referee = [
            "referees",
            "add",
            "--email",
            email,
            "--body",
            "GMC",
            "--number",
            "1",
            "--evidence",
            "seen",
        ]
        for args, words in (
            ([*client, "--name", "n" * (column_length(Client.name) + 1)], "--name is longer than 200"),
            ([*client, "--name", "a\x00b"], "--name contains a control character"),
            (
                [*client, "--name", "x", "--sector-identifier", "s" * 256],
                "--sector-identifier is longer than 255",
            ),
            (
                ["accounts", "create", "--email", "e" * 321, "--password", "velvet otter cabbage"],
                "--email is",
            ),
            (["staff", "grant", "--email", "e" * 321, "--role", "auditor"], "--email is longer than 320"),
            ([*referee, "--occupation", "o" * (column_length(Referee.occupation) + 1)], "--occupation is"),
            (
                [
                    "identities",
                    "revoke",
                    "--email",
                    email,
                    "--reason",
                    "r" * (column_length(IdentityRecord.revoked_reason) + 1),
                ],
                "--reason is longer than 200",
            ),
        ):
            refused = run(args, tmp_path, env)
            assert refused.returncode == 2 and words in refused.stderr, (args[:2], refused.stderr)
            assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
        fits = run([*client, "--name", "n" * column_length(Client.name)], tmp_path, env)
        assert fits.returncode == 0, fits.stderr
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM client")).scalar() == 1
                assert conn.execute(text("SELECT count(*) FROM account")).scalar() == 1
                assert conn.execute(text("SELECT count(*) FROM referee")).scalar() == 0
        finally:
            engine.dispose()


def test_clients_create_in_production_leaves_a_draft_agreement_for_two_people(tmp_path):
    """Outside development and test, `broker clients create` puts no agreement in force: it leaves a
    draft with no lawful basis, which a policy author completes and submits and a second person approves."""
    import yaml

    (tmp_path / "kek").write_text("A" * 43 + "=\n")
    env = {
        "BROKER_ENV": "production",
        "BROKER_ISSUER": "https://broker.example",
        "BROKER_KEY_ENCRYPTION_KEY_FILE": str(tmp_path / "kek"),
    }
    created = run(
        [
            "clients",
            "create",
            "--name",
            "Fishing",
            "--redirect-uri",
            "https://fish.example/cb",
            "--claims",
            "email",
        ],
        tmp_path,
        env,
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["agreement"] == "draft"
    [mou] = yaml.safe_load(run(["mou", "export"], tmp_path, env).stdout)["mous"]
    [version] = mou["versions"]
    assert (version["status"], version["lawful_basis"]) == ("draft", "")
    development = run(
        ["clients", "create", "--name", "Boats", "--redirect-uri", "https://boats.example/cb"], tmp_path
    )
    assert json.loads(development.stdout)["agreement"] == "approved"
