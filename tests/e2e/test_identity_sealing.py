"""`broker identities seal-documents` against a live broker: a passport that proved an identity before
fingerprints were kept (migration 0007) could prove a second account; once the operator runs the
command with the broker's key-encryption key, the second account is refused on the passport page and
the number is masked. With another key the command refuses and changes nothing."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from broker.store.db import transaction
from broker.store.models import IdentityRecord
from tests.command import run_broker
from tests.e2e.identity import KnownPerson
from tests.e2e.test_identity import IDENTITY_CLAIMS, ask_for_identity, sign_in_to_proving
from tests.identity.test_sealing import legacy_record
from vouching.person import ClaimedPerson

IN_USE = "This passport has already been used to prove an identity on another account"


def seal_documents(broker, kek_file: Path) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    """The command as an operator runs it, on the broker's database with the given key file."""
    return run_broker(
        ["identities", "seal-documents"],
        env={
            "BROKER_DATABASE_URL": broker.settings.database_url,
            "BROKER_ISSUER": broker.url,
            "BROKER_KEY_ENCRYPTION_KEY_FILE": str(kek_file),
        },
    )


def test_a_passport_proven_before_fingerprints_proves_one_account_once_sealed(
    broker, make_rp, person, agent, tmp_path
):
    known = KnownPerson().register(broker)
    with transaction(broker.db) as db:  # proven long ago, stored as the broker stored it then
        first = legacy_record(
            db,
            str(uuid.uuid4()),
            completed_at=broker.services.clock() - timedelta(days=500),
            number=known.passport_number,
            person=ClaimedPerson(known.given_names, known.family_name, known.birth_date),
        )
    start = sign_in_to_proving(agent, ask_for_identity(make_rp(claims=IDENTITY_CLAIMS)), person)
    passport_page = agent.submit(start, {"document": "passport"})
    assert agent.submit(passport_page, known.passport_form()).endswith("/identity/address")  # the gap

    other_key = tmp_path / "another-kek"
    other_key.write_text(base64.b64encode(os.urandom(32)).decode())
    refused = seal_documents(broker, other_key)
    assert refused.returncode == 2 and "different key-encryption key" in refused.stderr
    with broker.db() as db:  # nothing masked with a key that could not fingerprint it usefully
        kept = db.scalar(select(IdentityRecord.evidence).filter_by(id=first.id))
        assert kept[0]["document"]["documentNumber"] == known.passport_number

    sealed = seal_documents(broker, broker.settings.key_encryption_key_file)
    assert sealed.returncode == 0, sealed.stderr
    done = json.loads(sealed.stdout)
    assert done["sealed"] >= 1 and done["registered"] >= 1 and done["reused"] == []
    assert known.passport_number not in sealed.stdout + sealed.stderr

    refusal = agent.post(broker.url + "/identity/passport", known.passport_form())
    assert refusal.status_code == 400 and IN_USE in refusal.text
    with broker.db() as db:
        [entry] = db.scalar(select(IdentityRecord.evidence).filter_by(id=first.id))
        assert entry["document"]["documentNumber"] == "******" + known.passport_number[-3:]
        assert known.passport_number not in json.dumps(entry)
    again = seal_documents(broker, broker.settings.key_encryption_key_file)
    assert json.loads(again.stdout) == {"sealed": 0, "registered": 0, "reused": []}


def test_the_command_needs_the_key_encryption_key(broker, tmp_path):
    missing = seal_documents(broker, tmp_path / "no-such-file")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert not (tmp_path / "no-such-file").exists()  # never made up on the spot
