"""Someone who can write to the database, but does not hold the key-encryption key, tampers with the
audit log and the release ledger of a live broker; `broker audit verify`, run as a process of its own,
finds each change and names where. Each attack is put back before the next, and the log verifies again.

The broker here is one of its own (the attacks would break the shared one), with checkpoints every few
seconds; its background step seals the releases and signs the checkpoints, as in production."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update

from broker.audit.chain import GENESIS, entry_hash
from broker.audit.log import record
from broker.audit.seal import SEALED
from broker.store.db import make_engine, transaction
from broker.store.models import AuditEvent, ReleaseRecord
from tests.command import broker_process
from tests.conftest import DATABASES, fresh_postgres_database
from tests.e2e.agent import UserAgent
from tests.e2e.conftest import LiveBroker, live_broker
from tests.e2e.rp import RelyingParty


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        with fresh_postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'broker.db'}"


def wait_for(what: str, ready: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def newest_checkpoint_seq(path: Path) -> int:
    """The seq of the newest checkpoint on file (read without checking: the verifier checks)."""
    if not path.exists() or not path.read_text().strip():
        return 0
    payload = path.read_text().split()[-1].split(".")[1]
    return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["seq"])


def releases_and_seals(engine: Engine) -> tuple[int, int, int]:
    """(releases in the ledger, releases sealed, the log's head seq)."""
    with engine.connect() as db:
        released = db.scalar(select(func.count()).select_from(ReleaseRecord)) or 0
        seals = db.scalars(select(AuditEvent.details).where(AuditEvent.action == SEALED)).all()
        head = db.scalar(select(func.max(AuditEvent.seq))) or 0
    return released, sum(int(s["count"]) for s in seals), head


def sign_in_and_use_the_service(live: LiveBroker) -> None:
    """A person signs in to a service and it asks for their details twice."""
    email = "audited@example.org"
    live.create_account(email)
    info = live.create_client(redirect_uris=["http://localhost:9100/callback"], claims=["email"])
    rp = RelyingParty(
        live.url, str(info["client_id"]), str(info["redirect_uri"]), client_secret=str(info["client_secret"])
    )
    agent = UserAgent(live)
    try:
        token = rp.redeem(agent.authorize(rp.authorization_url(scope="openid email"), email=email))
        for _ in range(2):
            assert rp.userinfo(token["access_token"]).status_code == 200
    finally:
        agent.close()


@contextmanager
def tampered(engine: Engine, table: Any, where: Any, change: Callable[[Any], None]) -> Iterator[None]:
    """Make ``change`` to the database, and put the rows ``where`` selects back as they were after."""
    with engine.begin() as db:
        saved = [dict(row._mapping) for row in db.execute(select(table).where(where))]
    with engine.begin() as db:
        change(db)
    try:
        yield
    finally:
        with engine.begin() as db:
            db.execute(delete(table).where(where))
            if saved:
                db.execute(insert(table), saved)


@pytest.mark.timeout(400)  # eight runs of the command, each a process of its own
def test_verify_finds_each_attack_on_the_log_and_the_ledger(database_url: str, tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir()
    checkpoints = var / "audit-checkpoints"
    engine = make_engine(database_url)
    with live_broker(var, database_url, None, audit_checkpoint_seconds=5) as live:
        sign_in_and_use_the_service(live)
        released, _, _ = releases_and_seals(engine)
        assert released >= 2  # at least the two userinfo calls
        # The broker's own background step seals the releases (a few seconds after they are made)...
        wait_for("the releases to be sealed", lambda: releases_and_seals(engine)[1] == released)
        # ...and signs a checkpoint of the head, outside the database.
        wait_for(
            "a checkpoint of the head",
            lambda: newest_checkpoint_seq(checkpoints) == releases_and_seals(engine)[2],
        )
        issuer = live.settings.issuer
    env = {
        "BROKER_ENV": "test",
        "BROKER_DATABASE_URL": database_url,
        "BROKER_KEY_ENCRYPTION_KEY_FILE": str(var / "kek"),
        "BROKER_AUDIT_CHECKPOINT_FILE": str(checkpoints),
        "BROKER_ISSUER": issuer,
    }

    def verify() -> tuple[int, str, str]:
        process = broker_process(["audit", "verify"], tmp_path, env)
        out, err = process.communicate(timeout=120)
        return process.returncode, out, err

    def refused(expected: str) -> str:
        status, out, err = verify()
        assert status == 1 and expected in err, (status, out, err)
        return err

    status, out, err = verify()
    assert status == 0, err
    assert f"{released} releases sealed, 0 not yet" in out and "signed checkpoints agree" in out, out
    _, _, head = releases_and_seals(engine)
    with engine.connect() as db:
        sealed_ids = db.scalars(select(ReleaseRecord.id).order_by(ReleaseRecord.released_at)).all()

    # 1. An entry rewritten, and every hash from it on recomputed with SHA-256 (the key is not to hand).
    def rewrite_from_2(db: Any) -> None:
        rows = db.execute(select(AuditEvent).where(AuditEvent.seq >= 1).order_by(AuditEvent.seq)).all()
        prev = GENESIS
        for row in rows:
            actor = "someone-else" if row.seq == 2 else row.actor
            fields = (row.seq, row.at, row.action, actor, row.subject, row.client_hash, row.details, prev)
            new = entry_hash(*fields)
            if row.seq >= 2:
                db.execute(
                    update(AuditEvent)
                    .where(AuditEvent.seq == row.seq)
                    .values(actor=actor, prev_hash=prev, hash=new)
                )
            prev = new if row.seq >= 2 else row.hash

    with tampered(engine, AuditEvent, AuditEvent.seq >= 1, rewrite_from_2):
        refused("audit log broken at entry 2")

    # 2. A sealed release deleted (a release someone would rather nobody knew of).
    with tampered(
        engine,
        ReleaseRecord,
        ReleaseRecord.id == sealed_ids[1],
        lambda db: db.execute(delete(ReleaseRecord).where(ReleaseRecord.id == sealed_ids[1])),
    ):
        refused("1 sealed release(s) deleted since it was sealed")

    # 3. A sealed release altered: more claims than were released.
    with tampered(
        engine,
        ReleaseRecord,
        ReleaseRecord.id == sealed_ids[0],
        lambda db: db.execute(
            update(ReleaseRecord)
            .where(ReleaseRecord.id == sealed_ids[0])
            .values(claims=["email", "phone_number"])
        ),
    ):
        refused("a sealed release was altered since it was sealed")

    # 4. A release added into a window already sealed (one that never happened).
    def add_a_release(db: Any) -> None:
        original = db.execute(select(ReleaseRecord).where(ReleaseRecord.id == sealed_ids[0])).one()
        db.execute(
            insert(ReleaseRecord).values(
                {**dict(original._mapping), "id": "00000000-0000-4000-8000-000000000000"}
            )
        )

    with tampered(
        engine, ReleaseRecord, ReleaseRecord.id == "00000000-0000-4000-8000-000000000000", add_a_release
    ):
        refused("1 sealed release(s) added since it was sealed")

    # 5. The newest entries deleted: what is left is a whole chain, but shorter than a signed checkpoint.
    with tampered(
        engine,
        AuditEvent,
        AuditEvent.seq > head - 2,
        lambda db: db.execute(delete(AuditEvent).where(AuditEvent.seq > head - 2)),
    ):
        # Verify seals again the releases whose seal went with them, as entry head - 1: found as a log cut
        # short, or as an entry other than the one a checkpoint saw there.
        err = refused("signed checkpoint")
        assert f"saw {head} entries (cut short)" in err or f"entry {head - 1}: differs from" in err, err

    # 6. A forged checkpoint line (someone edits the file): refused, not believed.
    kept = checkpoints.read_text()
    header, _, signature = kept.split()[-1].split(".")
    forged = base64.urlsafe_b64encode(
        json.dumps({"iss": issuer, "seq": 1, "hash": "k1:x", "count": 1}).encode()
    )
    checkpoints.write_text(kept + f"{header}.{forged.decode().rstrip('=')}.{signature}\n")
    refused("does not verify with the broker's keys")
    checkpoints.write_text(kept)

    status, out, err = verify()  # every attack put back: whole again
    assert status == 0, err
    engine.dispose()


def written_by_the_broker(live: LiveBroker) -> None:
    with transaction(live.db) as db:  # the broker's own sessions (they hold the chain's key)
        record(db, "sign_in.failure", now=live.services.clock(), actor="anonymous")


def test_entries_written_by_the_command_line_are_keyed_too(database_url: str, tmp_path: Path) -> None:
    """`broker staff grant` writes to the log beside a running broker: with the chain's key, so the log
    stays whole (an unkeyed entry after keyed ones is what a rewrite without the key looks like)."""
    var = tmp_path / "var"
    var.mkdir()
    env = {
        "BROKER_ENV": "test",
        "BROKER_DATABASE_URL": database_url,
        "BROKER_KEY_ENCRYPTION_KEY_FILE": str(var / "kek"),
        "BROKER_AUDIT_CHECKPOINT_FILE": str(var / "audit-checkpoints"),
    }
    with ExitStack() as stack:
        live = stack.enter_context(live_broker(var, database_url, None))
        live.create_account("staff@example.org")
        written_by_the_broker(live)
        env["BROKER_ISSUER"] = live.settings.issuer
        process = broker_process(
            ["staff", "grant", "--email", "staff@example.org", "--role", "auditor"], tmp_path, env
        )
        assert process.wait(timeout=120) == 0, process.communicate()
        written_by_the_broker(live)
    process = broker_process(["audit", "verify"], tmp_path, env)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    engine = make_engine(database_url)
    with engine.connect() as db:
        hashes = db.scalars(select(AuditEvent.hash).order_by(AuditEvent.seq)).all()
    engine.dispose()
    assert len(hashes) >= 3 and all(h.startswith("k1:") for h in hashes)
