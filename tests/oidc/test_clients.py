"""Registering relying services: secrets are kept only as hashes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from broker.oidc.adapters import OidcClient
from broker.oidc.clients import NewClient, register_client
from broker.store.db import transaction
from broker.store.models import Client

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_client_secret_is_stored_hashed_never_as_given(session_factory):
    with transaction(session_factory) as db:
        client, secret = register_client(
            db, NewClient(name="S", redirect_uris=["https://rp.example/cb"]), NOW
        )
        client_id = client.client_id
    assert secret and len(secret) >= 32
    with session_factory() as db:
        row = db.execute(text("SELECT * FROM client WHERE client_id = :id"), {"id": client_id}).one()
        stored = {name: str(value) for name, value in row._mapping.items()}
        assert not any(secret in value for value in stored.values())  # not in any column, even as part
        assert stored["client_secret_hash"] != secret
        checker = OidcClient(db.get(Client, client_id))
        assert checker.check_client_secret(secret)
        assert not checker.check_client_secret(secret[:-1] + ("A" if secret[-1] != "A" else "B"))
        assert not checker.check_client_secret(stored["client_secret_hash"])  # the hash is no password


def test_private_key_jwt_client_has_no_secret(session_factory):
    jwks = {"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y"}]}
    with transaction(session_factory) as db:
        client, secret = register_client(
            db,
            NewClient(
                name="K", redirect_uris=["https://rp.example/cb"], auth_method="private_key_jwt", jwks=jwks
            ),
            NOW,
        )
        assert secret is None and client.client_secret_hash is None
