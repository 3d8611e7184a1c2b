"""How the identity check and the vouching service are built: the one place that does it, used by the
pages and protocol endpoints (``broker.deps``), the command line and the tests.

It carries the production guard (:mod:`broker.identity.guard`): the simulated authorities never prove
anyone in production, so without real adapters there are no checks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from broker.identity.documents import IdentityCheck
from broker.identity.guard import AuthoritiesFactory, proofing_authorities, proofing_available
from broker.identity.vouching import VouchingService
from vouching.rules import VouchingPolicy


def vouching_service(
    db: Session,
    clock: Callable[[], datetime],
    authorities: AuthoritiesFactory,
    *,
    env: str,
    policy: VouchingPolicy,
    issuer: str,
) -> VouchingService:
    return VouchingService(db, clock, proofing_authorities(db, authorities, env), policy, issuer)


def identity_check(
    db: Session,
    clock: Callable[[], datetime],
    authorities: AuthoritiesFactory,
    document_key: bytes,
    *,
    env: str,
    policy: VouchingPolicy,
    issuer: str,
) -> IdentityCheck:
    """The check by documents; a document that proves someone re-opens vouched namesakes' identities
    through the vouching service built beside it."""
    vouching = vouching_service(db, clock, authorities, env=env, policy=policy, issuer=issuer)
    return IdentityCheck(
        db, clock, vouching.authorities, document_key, reopen_namesakes=vouching.reopen_namesakes
    )


__all__ = ["identity_check", "proofing_available", "vouching_service"]
