"""Keys in the database: ensure, rotate, retire, verify across rotations, two processes at once."""

from __future__ import annotations

import multiprocessing
import os
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import delete, select, text, update

from broker.store.db import make_engine, make_sessionmaker
from broker.store.models import SigningKey
from broker.store.signing_keys import SqlKeyStore
from keys import KeyringSigner, KeyService, RotationRefused, TokenInvalid, envelope
from keys.envelope import load_kek
from keys.errors import KeyEncryptionKeyError, KeyError_, TamperedKeyError
from keys.lifecycle import NEXT_KEY_MIN_AGE

ISSUER = "https://broker.example"


@pytest.fixture
def kek(tmp_path):
    return load_kek(tmp_path / "kek", create=True)


@pytest.fixture
def clock():
    """The key service's clock, moved by the tests."""
    return [datetime.now(UTC)]


@pytest.fixture
def service(session_factory, kek, clock):
    svc = KeyService(SqlKeyStore(session_factory), kek, max_token_ttl=3600, clock=lambda: clock[0])
    svc.ensure_keys()
    return svc


def states(service, alg="ES256"):
    return sorted(k.state for k in service.list_keys() if k.alg == alg)


def claims(**extra):
    now = int(time.time())
    return {"iss": ISSUER, "aud": "client", "iat": now, "exp": now + 300, **extra}


def test_ensure_keys_is_idempotent(service):
    service.ensure_keys()
    assert states(service, "ES256") == ["current", "next"]
    assert states(service, "RS256") == ["current", "next"]


def test_token_signed_before_rotation_verifies_against_the_jwks_after(service, clock):
    signer = KeyringSigner(service, refresh_seconds=0)
    token = signer.sign(claims())
    clock[0] += NEXT_KEY_MIN_AGE
    service.rotate()
    jwks = jwt.PyJWKSet.from_dict(signer.jwks())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    assert jwt.decode(token, key.key, algorithms=["ES256"], audience="client")["iss"] == ISSUER
    assert signer.verify(token, audience="client", issuer=ISSUER)["iss"] == ISSUER
    assert states(service) == ["current", "next", "retired"]


def test_next_key_is_published_before_it_signs(service, clock):
    signer = KeyringSigner(service, refresh_seconds=0)
    next_kid = next(k.kid for k in service.list_keys() if k.state == "next" and k.alg == "ES256")
    assert next_kid in {k["kid"] for k in signer.jwks()["keys"]}
    assert jwt.get_unverified_header(signer.sign(claims()))["kid"] != next_kid
    clock[0] += NEXT_KEY_MIN_AGE
    service.rotate("ES256")
    assert jwt.get_unverified_header(signer.sign(claims()))["kid"] == next_kid


def test_rotation_waits_until_cached_jwks_copies_hold_the_next_key(service, clock):
    def es256():
        return {k.kid: k.state for k in service.list_keys() if k.alg == "ES256"}

    before = es256()
    with pytest.raises(RotationRefused, match="may cache the JWKS for 360 s"):
        service.rotate()  # both algorithms' next keys were published just now
    clock[0] += NEXT_KEY_MIN_AGE - timedelta(seconds=1)
    with pytest.raises(RotationRefused, match="next ES256 key was published 359 s ago"):
        service.rotate("ES256")
    assert es256() == before
    clock[0] += timedelta(seconds=1)
    service.rotate("ES256")
    # A second rotation minutes later would sign with the key it has only just published: refused.
    clock[0] += timedelta(minutes=4)
    with pytest.raises(RotationRefused):
        service.rotate("ES256")
    service.rotate("ES256", force=True)  # an emergency may insist
    assert sorted(es256().values()) == ["current", "next", "retired", "retired"]


def test_retired_keys_are_removed_after_retention(session_factory, kek):
    clock = [datetime(2026, 11, 23, tzinfo=UTC)]
    service = KeyService(SqlKeyStore(session_factory), kek, max_token_ttl=3600, clock=lambda: clock[0])
    service.ensure_keys(("ES256",))
    clock[0] += NEXT_KEY_MIN_AGE
    service.rotate("ES256")
    retired = [k.kid for k in service.list_keys() if k.state == "retired"]
    clock[0] += timedelta(minutes=30)
    service.rotate("ES256")
    assert retired[0] in {k.kid for k in service.list_keys()}
    clock[0] += timedelta(hours=1)
    service.rotate("ES256")
    assert retired[0] not in {k.kid for k in service.list_keys()}


def test_retire_current_key_promotes_next(service):
    current = next(k for k in service.list_keys() if k.state == "current" and k.alg == "RS256")
    assert service.retire(current.kid)
    assert {k.kid: k.state for k in service.list_keys()}[current.kid] == "retired"
    assert states(service, "RS256") == ["current", "next", "retired"]
    assert not service.retire("no-such-kid")


def test_rs256_signing(service):
    signer = KeyringSigner(service)
    token = signer.sign(claims(), alg="RS256")
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert signer.verify(token, audience="client", issuer=ISSUER)["aud"] == "client"


@pytest.mark.parametrize(
    "forge",
    [
        lambda signer, pub: jwt.encode(claims(), None, algorithm="none"),
        # Algorithm confusion: an HMAC token keyed with our public key must not verify.
        lambda signer, pub: _hs256_with_public_key(signer),
        lambda signer, pub: signer.sign(claims(exp=int(time.time()) - 3600)),
        lambda signer, pub: signer.sign(claims(iss="https://other.example")),
        lambda signer, pub: signer.sign(claims(aud="someone-else")),
        lambda signer, pub: "not.a.token",
    ],
)
def test_forged_or_wrong_tokens_are_rejected(service, forge):
    signer = KeyringSigner(service)
    with pytest.raises(TokenInvalid):
        signer.verify(forge(signer, ""), audience="client", issuer=ISSUER)


def _hs256_with_public_key(signer):
    import base64
    import hashlib
    import hmac
    import json

    kid = signer.jwks()["keys"][0]["kid"]
    secret = json.dumps(signer.jwks()["keys"][0]).encode()

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "kid": kid, "typ": "JWT"}).encode())
    body = b64(json.dumps(claims()).encode())
    sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def test_typ_is_checked_when_asked(service):
    signer = KeyringSigner(service)
    token = signer.sign(claims(), typ="at+jwt")
    assert signer.verify(token, audience="client", issuer=ISSUER, typ="at+jwt")
    with pytest.raises(TokenInvalid):
        signer.verify(signer.sign(claims()), audience="client", issuer=ISSUER, typ="at+jwt")


def test_tampering_with_a_stored_key_is_detected(service, session_factory):
    with session_factory() as db:
        row = db.scalars(select(SigningKey).where(SigningKey.state == "current")).first()
        blob = bytearray(row.wrapped_private_key)
        blob[-1] ^= 0xFF
        db.execute(
            update(SigningKey).where(SigningKey.kid == row.kid).values(wrapped_private_key=bytes(blob))
        )
        db.commit()
    with pytest.raises(TamperedKeyError):
        service.check_readable()


def test_wrong_kek_is_refused(service, session_factory, tmp_path):
    other = KeyService(SqlKeyStore(session_factory), load_kek(tmp_path / "other-kek", create=True), max_token_ttl=3600)
    with pytest.raises(KeyEncryptionKeyError):
        other.ensure_keys()


def test_database_dump_holds_no_usable_private_key(service, engine):
    from cryptography.hazmat.primitives import serialization

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT wrapped_private_key, public_jwk FROM signing_key")).all()
    for wrapped, public in rows:
        with pytest.raises(ValueError):
            serialization.load_der_private_key(bytes(wrapped), password=None)
        assert "d" not in (public if isinstance(public, dict) else __import__("json").loads(public))


def _rotate_in_process(database_url: str, kek: bytes, barrier) -> None:
    engine = make_engine(database_url)
    service = KeyService(SqlKeyStore(make_sessionmaker(engine)), kek, max_token_ttl=3600)
    barrier.wait()
    for _ in range(3):
        service.rotate(force=True)  # back to back: only the locking is under test
    engine.dispose()


def test_two_processes_rotating_at_once_leave_one_current_key(database_url, service, kek):
    before = {k.kid for k in service.list_keys()}
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_rotate_in_process, args=(database_url, kek, barrier)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    keys = service.list_keys()
    for alg in ("ES256", "RS256"):
        mine = [k for k in keys if k.alg == alg]
        assert [k.state for k in mine].count("current") == 1
        assert [k.state for k in mine].count("next") == 1
        assert len([k for k in mine if k.state == "retired"]) == 6  # 2 processes x 3 rotations, none lost
    assert before <= {k.kid for k in keys}  # nothing removed within retention


def test_check_usable_decrypts_and_signs_with_every_current_key(service, session_factory):
    cached = KeyringSigner(service, usable_check_seconds=60)
    cached.check_usable()
    with session_factory.begin() as db:
        db.execute(delete(SigningKey).where(SigningKey.state == "current", SigningKey.alg == "RS256"))
    cached.check_usable()  # the answer is kept for a few seconds: probes stay cheap
    with pytest.raises(KeyError_, match="no current RS256 signing key"):
        KeyringSigner(service, usable_check_seconds=0).check_usable()


def test_check_usable_fails_when_a_current_key_was_wrapped_with_another_kek(service, session_factory):
    signer = KeyringSigner(service, usable_check_seconds=0)
    with session_factory.begin() as db:
        row = db.scalars(
            select(SigningKey).where(SigningKey.state == "current", SigningKey.alg == "ES256")
        ).one()
        row.wrapped_private_key = envelope.wrap(os.urandom(32), row.kid, b"another broker's key")
    with pytest.raises(KeyEncryptionKeyError, match="different key-encryption key"):
        signer.check_usable()


def test_check_usable_fails_when_a_current_key_does_not_match_what_is_published(service, session_factory):
    signer = KeyringSigner(service, usable_check_seconds=0)
    with session_factory.begin() as db:
        current, nxt = (
            db.scalars(select(SigningKey).where(SigningKey.state == state, SigningKey.alg == "ES256")).one()
            for state in ("current", "next")
        )
        current.public_jwk = {**nxt.public_jwk, "kid": current.kid}
    with pytest.raises(KeyError_, match="does not sign as published"):
        signer.check_usable()
