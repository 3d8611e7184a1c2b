"""Sealing releases into the chain and signing checkpoints, against a real database (SQLite and
PostgreSQL): the background step's work, and what `broker audit verify` checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, update

from broker.audit.chain import Broken, Head
from broker.audit.checkpoints import Checkpoints
from broker.audit.log import CHAIN_KEY, UnkeyedWriter, Verified, check, record
from broker.audit.seal import SETTLE
from broker.audit.sealing import seal_releases
from broker.audit.worker import AuditSealer
from broker.store.db import make_sessionmaker, transaction
from broker.store.models import Account, AuditEvent, ReleaseRecord
from broker.store.signing_keys import build_key_service
from keys import KeyringSigner

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEY = b"s" * 32


@pytest.fixture
def keyed(engine):
    return make_sessionmaker(engine, {CHAIN_KEY: KEY})


def release(db, n: int, at: datetime) -> str:
    if db.get(Account, "acct") is None:
        db.add(Account(id="acct", email="a@example.org", created_at=T0))
        db.flush()
    rid = f"00000000-0000-4000-8000-{n:012d}"
    db.add(
        ReleaseRecord(
            id=rid,
            account_id="acct",
            client_id="svc",
            mou_version_id="v1",
            consent_id=None,
            grant_id="g",
            endpoint="userinfo",
            claims=["email"],
            released_at=at,
        )
    )
    return rid


def test_releases_are_sealed_in_windows_that_follow_one_another(keyed):
    with transaction(keyed) as db:
        for n in range(3):
            release(db, n, T0 + timedelta(seconds=n))
    with transaction(keyed) as db:  # made 1 s after the last release: it is still settling
        first = seal_releases(db, T0 + timedelta(seconds=2) + SETTLE - timedelta(seconds=1))
        assert first.count == 2 and first.after is None
    with transaction(keyed) as db:
        assert seal_releases(db, T0 + timedelta(seconds=2) + SETTLE - timedelta(seconds=1)) is None
        release(db, 3, T0 + timedelta(seconds=10))
    with transaction(keyed) as db:
        second = seal_releases(db, T0 + timedelta(minutes=1))
        assert second.count == 2 and second.after == first.until
    with keyed() as db:
        found = check(db, KEY)
        assert isinstance(found, Verified) and (found.releases.sealed, found.releases.unsealed) == (4, 0)
        assert found.head.seq == 2

    with transaction(keyed) as db:  # a sealed release deleted, then one altered
        db.execute(delete(ReleaseRecord).where(ReleaseRecord.id.endswith("3")))
    with keyed() as db:
        assert check(db, KEY) == Broken(2, "1 sealed release(s) deleted since it was sealed")
    with transaction(keyed) as db:
        release(db, 3, T0 + timedelta(seconds=10))
        db.flush()
        db.execute(update(ReleaseRecord).where(ReleaseRecord.id.endswith("0")).values(endpoint="token"))
    with keyed() as db:
        assert check(db, KEY) == Broken(1, "a sealed release was altered since it was sealed")


def test_no_unkeyed_entry_is_written_after_keyed_ones(keyed, session_factory):
    with transaction(session_factory) as db:
        record(db, "sign_in.failure", now=T0, actor="anonymous")  # as before the chain was keyed
    with transaction(keyed) as db:
        assert record(db, "sign_in.failure", now=T0, actor="anonymous").hash.startswith("k1:")
    with pytest.raises(UnkeyedWriter), transaction(session_factory) as db:
        record(db, "sign_in.failure", now=T0, actor="anonymous")
    with keyed() as db:
        assert isinstance(check(db, KEY), Verified)


def test_the_background_step_seals_signs_checkpoints_and_refuses_to_sign_a_broken_log(
    settings, engine, tmp_path
):
    keys = build_key_service(settings, engine)
    keys.ensure_keys()
    key = keys.audit_chain_key()
    factory = make_sessionmaker(engine, {CHAIN_KEY: key})
    file = Checkpoints(tmp_path / "checkpoints", KeyringSigner(keys), settings.issuer)
    now = [T0]
    sealer = AuditSealer(factory, key, file, lambda: now[0], checkpoint_every=timedelta(seconds=60))
    with transaction(factory) as db:
        release(db, 1, T0 - timedelta(seconds=30))
        record(db, "sign_in.success", now=T0, actor="acct")
    assert sealer.deliver_due() == 1  # sealed, and the first checkpoint signed at once
    read = file.read()
    assert read.newest == Head(2, sealer.checked.hash) and read.checked == 1 and not read.problems
    with transaction(factory) as db:
        record(db, "sign_in.success", now=T0, actor="acct")
    now[0] += timedelta(seconds=30)
    sealer.deliver_due()
    assert file.read().checked == 1  # not yet a minute
    now[0] += timedelta(seconds=30)
    sealer.deliver_due()
    assert file.read().newest.seq == 3

    # Entry 3 rewritten (keyed, but with another key): the next checkpoint is not signed.
    with transaction(factory) as db:
        record(db, "sign_in.success", now=T0, actor="acct")
        db.flush()
        db.execute(
            update(ReleaseRecord).values(endpoint="token")
        )  # (the ledger is not the worker's to check)
    with transaction(make_sessionmaker(engine)) as db:
        db.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(actor="someone-else"))
    now[0] += timedelta(minutes=1)
    assert sealer.checkpoint(now[0]) is None
    assert file.read().newest.seq == 3

    # A new process starts from the newest checkpoint on file that verifies.
    fresh = AuditSealer(factory, key, file, lambda: now[0], checkpoint_every=timedelta(seconds=60))
    assert fresh.checkpoint(now[0]) is None
    with make_sessionmaker(engine)() as db:
        assert check(db, key, file.read().anchors).seq == 4


def test_a_release_whose_transaction_is_still_open_is_not_left_behind_the_seal(keyed, engine):
    """On PostgreSQL releases are written concurrently with the seal: the seal waits for transactions
    already writing when it began, so a release they commit a moment later is inside it, not found
    later in a sealed window (which verify would report as added)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: the seal's transaction waits for it")
    import threading
    import time

    now = datetime.now(UTC)
    writer = keyed()
    release(writer, 1, now - timedelta(seconds=10))
    writer.flush()  # written, not committed
    threading.Thread(target=lambda: (time.sleep(0.5), writer.commit(), writer.close())).start()
    with transaction(keyed) as db:
        sealed = seal_releases(db, now)
    assert sealed is not None and sealed.count == 1
    with keyed() as db:
        assert isinstance(check(db, KEY), Verified)


def test_a_log_cut_short_below_the_newest_checkpoint_is_not_signed_again(settings, engine, tmp_path):
    keys = build_key_service(settings, engine)
    keys.ensure_keys()
    key = keys.audit_chain_key()
    factory = make_sessionmaker(engine, {CHAIN_KEY: key})
    file = Checkpoints(tmp_path / "checkpoints", KeyringSigner(keys), settings.issuer)
    with transaction(factory) as db:
        for _ in range(3):
            record(db, "sign_in.success", now=T0, actor="acct")
    assert AuditSealer(factory, key, file, lambda: T0, checkpoint_every=timedelta(0)).checkpoint(T0).seq == 3
    with transaction(factory) as db:
        db.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
    restarted = AuditSealer(factory, key, file, lambda: T0, checkpoint_every=timedelta(0))
    assert restarted.checkpoint(T0) is None and file.read().newest.seq == 3
