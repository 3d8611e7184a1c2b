"""Key pair generation: ES256 (P-256) by default, RS256 (RSA 3072) where a service needs it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.utils import base64url_encode

ALGORITHMS = ("ES256", "RS256")

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def generate_private_key(alg: str) -> PrivateKey:
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise ValueError(f"unsupported algorithm {alg}")


def private_bytes(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private(data: bytes) -> PrivateKey:
    key = serialization.load_der_private_key(data, password=None)
    assert isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey))
    return key


def public_jwk(key: PrivateKey, alg: str) -> dict[str, Any]:
    """The public JWK, its kid the RFC 7638 thumbprint."""
    public = key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        text = ECAlgorithm(ECAlgorithm.SHA256).to_jwk(public)
    else:
        text = RSAAlgorithm(RSAAlgorithm.SHA256).to_jwk(public)
    jwk: dict[str, Any] = json.loads(text)
    jwk.update({"kid": thumbprint(jwk), "alg": alg, "use": "sig"})
    return jwk


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 over the required members, sorted, without whitespace."""
    names = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({n: jwk[n] for n in names}, separators=(",", ":"), sort_keys=True)
    return base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()
