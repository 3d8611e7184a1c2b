"""Signing keys: the only code that touches private key material."""

from keys.envelope import load_kek
from keys.errors import KeyEncryptionKeyError, NoSigningKey, RotationRefused, TamperedKeyError, TokenInvalid
from keys.service import KeyInfo, KeyService, build_key_service
from keys.signer import KeyringSigner, Signer

__all__ = [
    "KeyEncryptionKeyError",
    "KeyInfo",
    "KeyService",
    "KeyringSigner",
    "NoSigningKey",
    "RotationRefused",
    "Signer",
    "TamperedKeyError",
    "TokenInvalid",
    "build_key_service",
    "load_kek",
]
