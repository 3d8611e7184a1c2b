"""The identity check and the vouching service as the broker wires them (``broker.identity.wiring``):
the check re-opens vouched namesakes' identities through a vouching service, as the pages' do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from broker.identity import registry, wiring
from broker.identity.documents import IdentityCheck
from broker.identity.vouching import VouchingService
from vouching.rules import VouchingPolicy

ISSUER = "http://broker.test"


def vouching_service(
    db: Session,
    clock: Callable[[], datetime],
    policy: VouchingPolicy | None = None,
    issuer: str = ISSUER,
) -> VouchingService:
    return wiring.vouching_service(
        db,
        clock,
        registry.simulated_authorities,
        env="test",
        policy=policy or VouchingPolicy(),
        issuer=issuer,
    )


def identity_service(db: Session, clock: Callable[[], datetime], document_key: bytes) -> IdentityCheck:
    return wiring.identity_check(
        db,
        clock,
        registry.simulated_authorities,
        document_key,
        env="test",
        policy=VouchingPolicy(),
        issuer=ISSUER,
    )
