"""What one protocol request works with: its database session, settings, signer and clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from broker.config import Settings
from broker.oidc.client_keys import ClientKeyResolver
from broker.oidc.replay import ReplayCache
from broker.oidc.repository import OidcRepository
from keys import Signer


@dataclass
class OidcContext:
    db: Session
    settings: Settings
    signer: Signer
    clock: Callable[[], datetime]
    replay: ReplayCache
    client_keys: ClientKeyResolver
    # Brings an account's identity up to date before it is read (vouches whose cooling-off ended).
    refresh_identity: Callable[[str], object] | None = None
    repo: OidcRepository = field(init=False)

    def __post_init__(self) -> None:
        self.repo = OidcRepository(self.db)

    def url(self, path: str) -> str:
        return self.settings.issuer + path
