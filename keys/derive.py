"""Keys derived from the key-encryption key for one purpose each (HKDF-SHA256, RFC 5869), so code
outside keys/ gets a key it needs without ever holding the KEK."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

AUDIT_ADDRESS = b"broker audit client address v1"
AUDIT_CHAIN = b"broker audit chain v1"
IDENTITY_DOCUMENT = b"broker identity document fingerprint v1"
ANTI_FORGERY = b"broker anti-forgery token v1"


def derive(kek: bytes, purpose: bytes) -> bytes:
    """32 bytes for ``purpose``; different purposes give unrelated keys, and none reveals the KEK."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(kek)
