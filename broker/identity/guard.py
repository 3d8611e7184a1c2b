"""The production guard on identity proofing: the simulated authorities never prove anyone in
production, so there they are replaced by :class:`UnavailableAuthorities`, which refuse every question
with :class:`ProofingUnavailable` ("Identity checks are not available").

Being refused only when asked keeps what needs no authority working (withdrawing the vouches of an
account being deleted, revoking an identity); the journeys' operations refuse at their first step
(:func:`require_proofing`), as their pages always have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from sqlalchemy.orm import Session

from broker.identity.errors import ProofingUnavailable
from broker.identity.registry import simulated_authorities
from vouching.authorities import Authorities

AuthoritiesFactory = Callable[[Session], Authorities]


class UnavailableAuthorities:
    """Stands in for the authorities where there are none to ask."""

    def __getattr__(self, name: str) -> object:
        raise ProofingUnavailable()


def proofing_available(authorities: AuthoritiesFactory, env: str) -> bool:
    return not (env == "production" and authorities is simulated_authorities)


def proofing_authorities(db: Session, authorities: AuthoritiesFactory, env: str) -> Authorities:
    """The authorities identity checks ask, or :class:`UnavailableAuthorities` when there are none."""
    if not proofing_available(authorities, env):
        return cast(Authorities, UnavailableAuthorities())
    return authorities(db)


def require_proofing(authorities: Authorities) -> None:
    """Raises :class:`ProofingUnavailable` when identities cannot be checked here."""
    if isinstance(authorities, UnavailableAuthorities):
        raise ProofingUnavailable()
