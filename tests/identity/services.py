"""The identity check as the broker wires it for tests: it re-opens vouched namesakes' identities
through a vouching service, as the identity pages do (broker/web/identity.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from broker.identity import registry
from broker.identity.service import IdentityService
from broker.identity.vouching import VouchingService
from vouching.rules import VouchingPolicy

ISSUER = "http://broker.test"


def identity_service(db: Session, clock: Callable[[], datetime], document_key: bytes) -> IdentityService:
    authorities = registry.simulated_authorities(db)
    vouching = VouchingService(db, clock, authorities, VouchingPolicy(), ISSUER)
    return IdentityService(db, clock, authorities, document_key, reopen_namesakes=vouching.reopen_namesakes)
