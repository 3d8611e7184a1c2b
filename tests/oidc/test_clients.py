"""Registering relying services: secrets are kept only as hashes, sectors cover the redirect hosts,
and the first agreement is approved by someone other than whoever registered the service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from broker.oidc.adapters import OidcClient
from broker.oidc.clients import ClientInvalid, NewClient, register_client
from broker.policy.mou import PolicyError
from broker.policy.service import apply, governing
from broker.store.db import transaction
from broker.store.models import Client, Mou, MouVersion

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_client_secret_is_stored_hashed_never_as_given(session_factory):
    with transaction(session_factory) as db:
        client, secret = register_client(
            db, NewClient(name="S", redirect_uris=["https://rp.example/cb"]), NOW, operator_approves=True
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
            operator_approves=True,
        )
        assert secret is None and client.client_secret_hash is None


def test_a_sector_must_cover_every_redirect_host(session_factory):
    """Sharing a sector shares the pairwise ``sub``: a service may only name a sector its own
    redirect hosts are under, never another service's."""
    with transaction(session_factory) as db:
        shared = NewClient(
            name="A", redirect_uris=["https://a.services.example/cb"], sector_identifier="services.example"
        )
        assert (
            register_client(db, shared, NOW, operator_approves=True)[0].sector_identifier
            == "services.example"
        )
        for sector in ("fish.example", "example.org", "a.services.example.evil", " "):
            other = NewClient(name="B", redirect_uris=["https://boats.example/cb"], sector_identifier=sector)
            with pytest.raises(ClientInvalid, match="sector identifier"):
                register_client(db, other, NOW, operator_approves=True)
        mixed = NewClient(
            name="C",
            redirect_uris=["https://c.services.example/cb", "https://elsewhere.example/cb"],
            sector_identifier="services.example",
        )
        with pytest.raises(ClientInvalid, match="elsewhere.example"):
            register_client(db, mixed, NOW, operator_approves=True)


def test_a_service_registered_in_the_console_shares_nothing_until_someone_else_approves(session_factory):
    with transaction(session_factory) as db:
        client, _ = register_client(
            db, NewClient(name="D", redirect_uris=["https://d.example/cb"], claims=["email"]), NOW, "staff-1"
        )
        [version] = db.scalars(select(MouVersion).join(Mou).where(Mou.client_id == client.client_id)).all()
        assert (version.status, version.author, version.approved_by) == ("submitted", "staff-1", None)
        assert governing(db, client.client_id) is None  # no agreement in force: nothing is released
        with pytest.raises(PolicyError):
            apply(db, version, "approve", "staff-1", NOW)  # not by the one who proposed it
        apply(db, version, "approve", "staff-2", NOW)
        assert governing(db, client.client_id) is not None


def test_a_service_created_at_the_command_line_is_approved_by_the_operator_in_development(session_factory):
    with transaction(session_factory) as db:
        client, _ = register_client(
            db, NewClient(name="E", redirect_uris=["https://e.example/cb"]), NOW, operator_approves=True
        )
        assert governing(db, client.client_id).approved_by == "operator (command line)"


def test_elsewhere_a_service_created_at_the_command_line_gets_a_draft_with_no_placeholder_text(
    session_factory,
):
    with transaction(session_factory) as db:
        client, _ = register_client(db, NewClient(name="F", redirect_uris=["https://f.example/cb"]), NOW)
        [version] = db.scalars(select(MouVersion).join(Mou).where(Mou.client_id == client.client_id)).all()
        assert (version.status, version.approved_by, version.lawful_basis) == ("draft", None, "")
        assert governing(db, client.client_id) is None  # nothing is shared until two people approve
        with pytest.raises(PolicyError, match="Enter the lawful basis"):
            apply(db, version, "submit", "operator", NOW)
