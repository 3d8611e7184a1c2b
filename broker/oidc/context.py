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
from broker.policy.release import Agreement, ConsentFacts
from broker.policy.service import agreement_for, consent_facts, with_companion_terms
from broker.store.catalog import Catalog
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
    catalog: Catalog | None = None
    repo: OidcRepository = field(init=False)
    # Read once per request: authorize, token and userinfo each consult the agreement and the
    # consent for more than one decision, and neither changes within a request.
    _agreements: dict[str, Agreement | None] = field(init=False, default_factory=dict)
    _consents: dict[tuple[str, str], ConsentFacts | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.repo = OidcRepository(self.db, self.catalog)

    def agreement(self, client_id: str) -> Agreement | None:
        """The agreement governing the service, companion claims (``email_verified``) included."""
        if client_id not in self._agreements:
            found = agreement_for(self.db, client_id, today=self.clock().date(), catalog=self.catalog)
            self._agreements[client_id] = (
                Agreement(found.version_id, found.status, with_companion_terms(found.terms))
                if found
                else None
            )
        return self._agreements[client_id]

    def consent(self, account_id: str, client_id: str) -> ConsentFacts | None:
        """What the person agreed to under the governing agreement (see ``consent_facts``)."""
        key = (account_id, client_id)
        if key not in self._consents:
            self._consents[key] = consent_facts(self.db, account_id, client_id, self.agreement(client_id))
        return self._consents[key]

    def url(self, path: str) -> str:
        return self.settings.issuer + path
