"""Envelope encryption of private keys at rest (AES-256-GCM).

A fresh data key encrypts each private key; the key-encryption key (KEK) wraps the data key. The kid is
bound as associated data, so a wrapped key cannot be moved to another row. The blob starts with the
KEK's fingerprint, so a wrong KEK is reported as such rather than as tampering.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keys.errors import KeyEncryptionKeyError, TamperedKeyError

VERSION = b"K1"
NONCE = 12
FINGERPRINT = 8
KEK_BYTES = 32


def fingerprint(kek: bytes) -> bytes:
    return hashlib.sha256(b"kek-fingerprint" + kek).digest()[:FINGERPRINT]


def load_kek(path: Path, *, create: bool) -> bytes:
    """Read the KEK (base64 of 32 bytes). In development it is generated, readable by its owner only."""
    if not path.exists():
        if not create:
            raise KeyEncryptionKeyError(f"key-encryption key file {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(AESGCM.generate_key(bit_length=256)).decode() + "\n")
    try:
        kek = base64.b64decode(path.read_text().strip(), validate=True)
    except (OSError, ValueError):
        raise KeyEncryptionKeyError(f"key-encryption key file {path} is unreadable or not base64") from None
    if len(kek) != KEK_BYTES:
        raise KeyEncryptionKeyError(f"key-encryption key in {path} must be {KEK_BYTES} bytes")
    return kek


def wrap(kek: bytes, kid: str, private_bytes: bytes) -> bytes:
    data_key = AESGCM.generate_key(bit_length=256)
    key_nonce, data_nonce = os.urandom(NONCE), os.urandom(NONCE)
    aad = kid.encode()
    wrapped_key = AESGCM(kek).encrypt(key_nonce, data_key, aad)
    ciphertext = AESGCM(data_key).encrypt(data_nonce, private_bytes, aad)
    return (
        VERSION
        + fingerprint(kek)
        + key_nonce
        + struct.pack(">H", len(wrapped_key))
        + wrapped_key
        + data_nonce
        + ciphertext
    )


def unwrap(kek: bytes, kid: str, blob: bytes) -> bytes:
    head = len(VERSION) + FINGERPRINT
    if len(blob) < head + NONCE + 2 or blob[: len(VERSION)] != VERSION:
        raise TamperedKeyError(f"stored key {kid} is not a wrapped key")
    if blob[len(VERSION) : head] != fingerprint(kek):
        raise KeyEncryptionKeyError(f"stored key {kid} was wrapped with a different key-encryption key")
    pos = head
    key_nonce = blob[pos : pos + NONCE]
    pos += NONCE
    (length,) = struct.unpack(">H", blob[pos : pos + 2])
    pos += 2
    wrapped_key, pos = blob[pos : pos + length], pos + length
    data_nonce, ciphertext = blob[pos : pos + NONCE], blob[pos + NONCE :]
    aad = kid.encode()
    try:
        data_key = AESGCM(kek).decrypt(key_nonce, wrapped_key, aad)
        return AESGCM(data_key).decrypt(data_nonce, ciphertext, aad)
    except (InvalidTag, ValueError):
        raise TamperedKeyError(f"stored key {kid} failed its integrity check (tampered)") from None
