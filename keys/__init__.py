"""Signing keys: the only code that touches private key material."""

from keys.envelope import load_kek
from keys.errors import KeyEncryptionKeyError, NoSigningKey, RotationRefused, TamperedKeyError, TokenInvalid
from keys.service import KeyInfo, KeyService
from keys.signer import KeyringSigner, Signer
from keys.store import KeyStore, StoredKey

__all__ = [
    "KeyEncryptionKeyError",
    "KeyInfo",
    "KeyService",
    "KeyStore",
    "KeyringSigner",
    "NoSigningKey",
    "RotationRefused",
    "Signer",
    "StoredKey",
    "TamperedKeyError",
    "TokenInvalid",
    "load_kek",
]
