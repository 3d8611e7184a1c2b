"""Readiness (/readyz): the database answers and the current signing keys decrypt and sign."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.orm import Session

from broker.app import create_app
from broker.config import load_settings
from broker.store.db import transaction
from broker.store.models import SigningKey
from keys import envelope


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    var = tmp_path_factory.mktemp("health")
    settings = load_settings(
        env="test",
        issuer="http://broker.test",
        database_url=f"sqlite:///{var}/b.db",
        key_encryption_key_file=var / "kek",
    )
    built = create_app(settings)
    built.state.services.signer.usable_check_seconds = 0  # every probe checks afresh here
    return built


@pytest.fixture
def keys_put_back(app: FastAPI) -> Iterator[None]:
    factory = app.state.services.session_factory
    columns = SigningKey.__table__.columns
    with factory() as db:
        saved = [{c.name: getattr(row, c.key) for c in columns} for row in db.scalars(select(SigningKey))]
    yield
    with transaction(factory) as db:
        db.execute(delete(SigningKey))
        db.execute(insert(SigningKey), saved)


def _current(alg: str) -> ColumnElement[bool]:
    return (SigningKey.state == "current") & (SigningKey.alg == alg)


def _remove_current_key(db: Session) -> None:
    db.execute(delete(SigningKey).where(_current("ES256")))


def _wrap_current_key_with_another_kek(db: Session) -> None:
    # What another instance started with the wrong key-encryption key would leave behind.
    kid = db.scalars(select(SigningKey.kid).where(_current("RS256"))).one()
    blob = envelope.wrap(os.urandom(32), kid, b"not this broker's key")
    db.execute(update(SigningKey).where(SigningKey.kid == kid).values(wrapped_private_key=blob))


def test_ready_when_the_keys_sign(app: FastAPI) -> None:
    response = TestClient(app).get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": True, "keys": True}, "failing": []}


@pytest.mark.usefixtures("keys_put_back")
@pytest.mark.parametrize("damage", [_remove_current_key, _wrap_current_key_with_another_kek])
def test_not_ready_when_a_current_key_cannot_sign(app: FastAPI, damage: Callable[[Session], None]) -> None:
    with transaction(app.state.services.session_factory) as db:
        damage(db)
    response = TestClient(app).get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "checks": {"database": True, "keys": False},
        "failing": ["keys"],
    }
    assert TestClient(app).get("/healthz").status_code == 200  # alive, only not ready
