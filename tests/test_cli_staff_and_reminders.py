"""`broker staff grant | revoke` and `broker mou remind` on an empty directory (SQLite), as their
entry point runs them: roles change through the staff service, audited, never the last administrator's;
an owner is reminded once of a review that is due; the data protection officer's fields go through
`broker mou export` and `broker mou import`."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import yaml

from tests.command import run_broker as run

PASSWORD = "a long fixture passphrase"


def test_staff_roles_are_granted_and_revoked_but_never_the_last_administrators(tmp_path):
    for email in ("first@example.org", "second@example.org"):
        assert run(["accounts", "create", "--email", email, "--password", PASSWORD], tmp_path).returncode == 0
    granted = run(["staff", "grant", "--email", "first@example.org", "--role", "administrator"], tmp_path)
    assert granted.returncode == 0 and json.loads(granted.stdout)["roles"] == ["administrator"]
    last = run(["staff", "revoke", "--email", "first@example.org", "--role", "administrator"], tmp_path)
    assert last.returncode == 2 and "last administrator" in last.stderr and "Traceback" not in last.stderr
    not_held = run(["staff", "revoke", "--email", "second@example.org", "--role", "auditor"], tmp_path)
    assert not_held.returncode == 2 and "does not hold" in not_held.stderr
    assert (
        run(
            ["staff", "grant", "--email", "second@example.org", "--role", "administrator"], tmp_path
        ).returncode
        == 0
    )
    stepped_down = run(
        ["staff", "revoke", "--email", "FIRST@example.org", "--role", "administrator"], tmp_path
    )
    assert stepped_down.returncode == 0 and json.loads(stepped_down.stdout)["roles"] == []
    verified = run(["audit", "verify"], tmp_path)
    assert verified.returncode == 0, verified.stderr


def test_the_dpo_fields_go_through_export_and_import_and_owners_are_reminded_once(tmp_path):
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
    )
    assert created.returncode == 0, created.stderr
    nothing = run(["mou", "remind"], tmp_path)  # a new agreement's review is half a year away
    assert nothing.returncode == 0 and json.loads(nothing.stdout) == {"reminders": []}

    document = yaml.safe_load(run(["mou", "export"], tmp_path).stdout)
    [version] = document["mous"][0]["versions"]
    assert version["dpia_reference"] == "" and version["controller_relationship"] == ""
    version |= {
        "dpia_reference": "DPIA-2026-014",
        "controller_relationship": "separate_controllers",
        "owner_name": "Rhian Owen",
        "owner_email": "rhian.owen@example.gov.uk",
    }
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(document))
    author = "author@example.org"
    assert run(["accounts", "create", "--email", author, "--password", PASSWORD], tmp_path).returncode == 0
    assert run(["staff", "grant", "--email", author, "--role", "policy_author"], tmp_path).returncode == 0
    imported = run(["mou", "import", str(policy), "--author", author], tmp_path)
    assert imported.returncode == 0, imported.stderr
    again = yaml.safe_load(run(["mou", "export"], tmp_path).stdout)["mous"][0]["versions"][-1]
    assert again["dpia_reference"] == "DPIA-2026-014" and again["owner_email"] == "rhian.owen@example.gov.uk"

    version["controller_relationship"] = "friends"
    policy.write_text(yaml.safe_dump(document))
    refused = run(["mou", "import", str(policy), "--author", author], tmp_path)
    assert refused.returncode == 2 and "Choose how the parties stand to each other" in refused.stderr


def test_a_due_review_is_reminded_once(tmp_path):
    created = run(
        [
            "clients",
            "create",
            "--name",
            "Boats",
            "--redirect-uri",
            "https://boats.example/cb",
            "--claims",
            "email",
        ],
        tmp_path,
    )
    assert created.returncode == 0, created.stderr
    # The version in force names its owner, and its review comes within the month.
    with sqlite3.connect(tmp_path / "var" / "broker.db") as db:
        db.execute(
            "update mou_version set owner_email = ?, review_date = ?",
            ("owner@example.gov.uk", (date.today() + timedelta(days=3)).isoformat()),
        )
    first = run(["mou", "remind"], tmp_path)
    assert first.returncode == 0, first.stderr
    [sent] = json.loads(first.stdout)["reminders"]
    assert sent["sent"] is True and sent["milestone"].startswith("review:")
    assert json.loads(run(["mou", "remind"], tmp_path).stdout) == {"reminders": []}
    assert run(["audit", "verify"], tmp_path).returncode == 0
