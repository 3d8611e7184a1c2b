"""Every table the broker keeps. Importing this module registers them all on ``Base.metadata``."""

from broker.store.base import Base
from broker.store.models.accounts import Account
from broker.store.models.audit import AuditEvent
from broker.store.models.changes import AccountChange
from broker.store.models.clients import Client, Consent
from broker.store.models.identity import IdentityRecord, ProvenDocument, SimulatedRegistryEntry
from broker.store.models.interactions import Interaction, OutboxMessage
from broker.store.models.keys import SigningKey
from broker.store.models.passkeys import Passkey
from broker.store.models.policy import Mou, MouVersion, ReleaseRecord
from broker.store.models.sessions import BrowserSession, SessionClient
from broker.store.models.throttle import ThrottleCounter
from broker.store.models.tokens import (
    AuthorizationCode,
    BackchannelLogout,
    Grant,
    IssuedAccessToken,
    RefreshToken,
    SeenJti,
)
from broker.store.models.vouching import Referee, Vouch, VouchRequest

__all__ = [
    "Account",
    "AccountChange",
    "AuditEvent",
    "AuthorizationCode",
    "BackchannelLogout",
    "Base",
    "BrowserSession",
    "Client",
    "Consent",
    "Grant",
    "IdentityRecord",
    "Interaction",
    "IssuedAccessToken",
    "Mou",
    "MouVersion",
    "OutboxMessage",
    "Passkey",
    "ProvenDocument",
    "Referee",
    "RefreshToken",
    "ReleaseRecord",
    "SeenJti",
    "SessionClient",
    "SigningKey",
    "SimulatedRegistryEntry",
    "ThrottleCounter",
    "Vouch",
    "VouchRequest",
]
