"""Errors of the key store. Messages are one line and never contain key material."""


class KeyError_(Exception):
    pass


class KeyEncryptionKeyError(KeyError_):
    """The key-encryption key is missing, malformed, or not the one the keys were wrapped with."""


class TamperedKeyError(KeyError_):
    """A stored wrapped key failed authentication: it was changed after it was written."""


class NoSigningKey(KeyError_):
    """No current key for the algorithm asked for."""


class TokenInvalid(KeyError_):
    """A token the broker was asked to verify is not one it signed, or no longer valid."""


class RotationRefused(KeyError_):
    """A rotation would sign with a next key that cached copies of the JWKS may not hold yet."""


class ConcurrentChange(KeyError_):
    """Another process changed an algorithm's keys at the same moment; the change can be tried again."""
