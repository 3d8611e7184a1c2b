"""Backups: dump the database with deploy/scripts/backup.sh, restore into an empty database with
restore.sh, and find everything there: accounts, clients, usable keys, an intact audit chain."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from broker.accounts.passwords import PasswordService
from broker.accounts.service import AccountService
from broker.audit.log import record
from broker.deps import utc_now
from broker.store.db import make_engine, make_sessionmaker, transaction
from broker.store.models import Account, SigningKey
from broker.store.signing_keys import SqlKeyStore
from keys import KeyringSigner, KeyService, load_kek
from tests.conftest import POSTGRES_URL, fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.skipif(not POSTGRES_URL, reason="backup tests skipped: BROKER_TEST_POSTGRES_URL is not set"),
    pytest.mark.skipif(not shutil.which("pg_dump"), reason="backup tests skipped: no pg_dump"),
]


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_backup_and_restore(tmp_path):
    kek = load_kek(tmp_path / "kek", create=True)
    with fresh_postgres_database() as source, fresh_postgres_database() as target:
        engine = make_engine(source)
        factory = make_sessionmaker(engine)
        KeyService(SqlKeyStore(factory), kek, max_token_ttl=3600).ensure_keys()
        with transaction(factory) as db:
            AccountService(db, PasswordService()).create(
                "kept@example.org", "velvet otter cabbage", verified=True, now=utc_now()
            )
            for i in range(3):
                record(db, "sign_in.success", now=utc_now(), actor=f"a{i}")
        engine.dispose()
        dump = tmp_path / "broker.dump"
        subprocess.run(
            [ROOT / "deploy/scripts/backup.sh", libpq(source), dump], check=True, capture_output=True
        )
        # restore.sh expects an empty database: drop the tables fresh_postgres_database migrated.
        target_engine = make_engine(target)
        with target_engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        env = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
        env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
        env["BROKER_KEY_ENCRYPTION_KEY_FILE"] = str(tmp_path / "kek")
        restored = subprocess.run(
            [ROOT / "deploy/scripts/restore.sh", dump, libpq(target)],
            check=False,
            env=env,
            capture_output=True,
            text=True,
        )
        assert restored.returncode == 0, restored.stderr
        assert "audit log intact" in restored.stdout
        factory = make_sessionmaker(target_engine)
        with factory() as db:
            assert db.scalars(select(Account.email)).all() == ["kept@example.org"]
            assert db.scalar(select(func.count()).select_from(SigningKey)) == 4
        signer = KeyringSigner(KeyService(SqlKeyStore(factory), kek, max_token_ttl=3600))
        token = signer.sign({"iss": "https://b", "aud": "x", "exp": 2_000_000_000})
        assert signer.verify(token, audience="x", issuer="https://b")["aud"] == "x"
        target_engine.dispose()
