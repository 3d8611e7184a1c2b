"""Subject identifiers (OIDC Core §8): pairwise per sector, stable for the same person and sector."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from broker.store.models import Account, Client

SUB_PREFIX = "urn:fdc:broker:2026:"


def default_sector(redirect_uris: list[str]) -> str:
    return urlsplit(redirect_uris[0]).hostname or ""


def pairwise_sub(sector: str, account_id: str, pairwise_seed: str) -> str:
    digest = hashlib.sha256(f"{sector}\x00{account_id}\x00{pairwise_seed}".encode()).digest()
    return SUB_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def subject_for(subject_type: str, sector: str, account_id: str, pairwise_seed: str) -> str:
    if subject_type == "public":
        return account_id
    return pairwise_sub(sector, account_id, pairwise_seed)


def subject(client: Client, account: Account) -> str:
    """The ``sub`` this client knows the account by."""
    return subject_for(client.subject_type, client.sector_identifier, account.id, account.pairwise_seed)
