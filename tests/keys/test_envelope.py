"""Private keys at rest: AES-GCM envelope encryption under the key-encryption key."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization

from broker.store.signing_keys import SqlKeyStore
from keys.envelope import load_kek, unwrap, wrap
from keys.errors import KeyEncryptionKeyError, TamperedKeyError
from keys.generate import generate_private_key, private_bytes


def test_kek_is_generated_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "var" / "kek"
    kek = load_kek(path, create=True)
    assert len(kek) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_kek(path, create=False) == kek


def test_missing_or_malformed_kek_is_refused_clearly(tmp_path):
    with pytest.raises(KeyEncryptionKeyError, match="does not exist"):
        load_kek(tmp_path / "absent", create=False)
    bad = tmp_path / "bad"
    bad.write_text("not base64!!")
    with pytest.raises(KeyEncryptionKeyError, match="not base64"):
        load_kek(bad, create=False)
    short = tmp_path / "short"
    short.write_text("c2hvcnQ=")
    with pytest.raises(KeyEncryptionKeyError, match="32 bytes"):
        load_kek(short, create=False)


def test_round_trip(tmp_path):
    kek = load_kek(tmp_path / "kek", create=True)
    secret = private_bytes(generate_private_key("ES256"))
    blob = wrap(kek, "kid-1", secret)
    assert secret not in blob
    assert unwrap(kek, "kid-1", blob) == secret


def test_every_tampered_byte_is_detected(tmp_path):
    kek = load_kek(tmp_path / "kek", create=True)
    blob = wrap(kek, "kid-1", private_bytes(generate_private_key("ES256")))
    for i in range(len(blob)):
        changed = bytearray(blob)
        changed[i] ^= 0x01
        with pytest.raises((TamperedKeyError, KeyEncryptionKeyError)):
            unwrap(kek, "kid-1", bytes(changed))


def test_a_wrapped_key_cannot_move_to_another_kid(tmp_path):
    kek = load_kek(tmp_path / "kek", create=True)
    blob = wrap(kek, "kid-1", b"secret")
    with pytest.raises(TamperedKeyError):
        unwrap(kek, "kid-2", blob)


def test_wrong_kek_is_named_as_such(tmp_path):
    blob = wrap(load_kek(tmp_path / "a", create=True), "kid-1", b"secret")
    with pytest.raises(KeyEncryptionKeyError, match="different key-encryption key"):
        unwrap(load_kek(tmp_path / "b", create=True), "kid-1", blob)


def test_wrapped_bytes_are_not_a_usable_key(tmp_path):
    kek = load_kek(tmp_path / "kek", create=True)
    blob = wrap(kek, "kid-1", private_bytes(generate_private_key("RS256")))
    with pytest.raises(ValueError):
        serialization.load_der_private_key(blob, password=None)


def test_derived_keys_are_stable_per_purpose_and_never_the_kek():
    from keys.derive import AUDIT_ADDRESS, derive

    kek = bytes(range(32))
    assert derive(kek, AUDIT_ADDRESS) == derive(kek, AUDIT_ADDRESS)
    assert len(derive(kek, AUDIT_ADDRESS)) == 32
    assert derive(kek, b"another purpose") != derive(kek, AUDIT_ADDRESS) != kek


def test_the_document_key_is_its_own_purpose():
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from keys.derive import AUDIT_ADDRESS, IDENTITY_DOCUMENT, derive
    from keys.service import KeyService

    kek = bytes(range(32))
    service = KeyService(SqlKeyStore(sessionmaker(create_engine("sqlite://"))), kek, max_token_ttl=3600)
    assert service.document_key() == derive(kek, IDENTITY_DOCUMENT)
    assert service.document_key() not in (derive(kek, AUDIT_ADDRESS), service.audit_address_key(), kek)


def test_the_audit_chain_key_is_its_own_purpose():
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from keys.derive import AUDIT_CHAIN, derive
    from keys.service import KeyService

    kek = bytes(range(32))
    service = KeyService(SqlKeyStore(sessionmaker(create_engine("sqlite://"))), kek, max_token_ttl=3600)
    assert service.audit_chain_key() == derive(kek, AUDIT_CHAIN)
    others = (service.audit_address_key(), service.document_key(), service.anti_forgery_key(), kek)
    assert service.audit_chain_key() not in others
