"""Registering a relying service refuses metadata the broker could not honour, each with its reason
(OIDC Dynamic Client Registration §3.2: invalid_client_metadata, invalid_redirect_uri)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from broker.oidc.clients import ClientInvalid, NewClient, load_jwks_file, register_client
from broker.store.db import transaction

NOW = datetime(2026, 11, 23, tzinfo=UTC)
KEY = {"kty": "EC", "crv": "P-256", "x": "x", "y": "y"}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"auth_method": "client_secret_post"},
            "Choose how the service authenticates: client_secret_basic or private_key_jwt",
        ),
        ({"redirect_uris": []}, "Enter at least one redirect URI"),
        ({"auth_method": "private_key_jwt"}, "Private key JWT needs the service's public keys"),
        ({"id_token_alg": "HS256"}, "Choose the ID token algorithm: ES256 or RS256"),
        ({"claims": ["email", "shoe_size"]}, "Unknown claims: shoe_size"),
        # OIDC Core §3.1.2.1 and RFC 6749 §3.1.2: absolute, no fragment; https except for loopback.
        ({"redirect_uris": ["/callback"]}, "Redirect URI must be an absolute http(s) URL"),
        ({"redirect_uris": ["ftp://rp.example/cb"]}, "Redirect URI must be an absolute http(s) URL"),
        ({"redirect_uris": ["https://rp.example/cb#top"]}, "Redirect URI must be an absolute http(s) URL"),
        ({"redirect_uris": ["http://rp.example/cb"]}, "Redirect URI must use https"),
        ({"post_logout_redirect_uris": ["http://rp.example/out"]}, "must use https"),
        # The broker calls these itself, so never at a private or loopback address.
        ({"backchannel_logout_uri": "https://127.0.0.1/logout"}, "must be a public address"),
        ({"security_event_uri": "https://10.0.0.5/events"}, "must be a public address"),
        ({"sector_identifier": "other.example"}, "rp.example is not under other.example"),
    ],
)
def test_metadata_the_broker_cannot_honour_is_refused_with_its_reason(
    session_factory: sessionmaker[Session], changes: dict[str, Any], reason: str
) -> None:
    new = NewClient(**{"name": "S", "redirect_uris": ["https://rp.example/cb"], **changes})
    with pytest.raises(ClientInvalid, match=re.escape(reason)), transaction(session_factory) as db:
        register_client(db, new, NOW, operator_approves=True)


@pytest.mark.parametrize("uri", ["http://localhost:9000/cb", "http://127.0.0.1/cb", "https://rp.example/cb"])
def test_https_or_a_loopback_address_is_accepted_as_a_redirect_uri(
    session_factory: sessionmaker[Session], uri: str
) -> None:
    with transaction(session_factory) as db:
        client, _ = register_client(db, NewClient(name="S", redirect_uris=[uri]), NOW, operator_approves=True)
        assert client.redirect_uris == [uri]


def test_a_jwks_file_holds_a_key_set_or_a_single_key(tmp_path: Path) -> None:
    (tmp_path / "set.json").write_text(json.dumps({"keys": [KEY]}))
    (tmp_path / "one.json").write_text(json.dumps(KEY))
    assert load_jwks_file(tmp_path / "set.json") == {"keys": [KEY]}
    assert load_jwks_file(tmp_path / "one.json") == {"keys": [KEY]}


@pytest.mark.parametrize("content", [None, "{not json"])
def test_an_unreadable_jwks_file_is_refused(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "keys.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ClientInvalid, match="cannot read a JWKS from"):
        load_jwks_file(path)
