"""Authlib's model interfaces, filled in from our store rows."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import scope_to_list

from broker.store.models import Account, AuthorizationCode, Client, Grant


def hash_secret(secret: str) -> str:
    """Client secrets and opaque tokens are high-entropy, so one SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class OidcClient(ClientMixin):
    row: Client

    @property
    def client_id(self) -> str:
        return self.row.client_id

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        # OIDC requires redirect_uri on every request; there is no default.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(self.row.scopes)
        return " ".join(s for s in scope_to_list(scope) if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string match (RFC 9700 §4.1.3): no prefixes, no normalisation.
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        stored = self.row.client_secret_hash
        return stored is not None and hmac.compare_digest(stored, hash_secret(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.row.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")

    @property
    def alg(self) -> str:
        return self.row.id_token_signed_response_alg


@dataclass
class CodeRecord(AuthorizationCodeMixin):
    row: AuthorizationCode
    grant: Grant

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.grant.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return int(self.grant.auth_time.timestamp())

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> list[str]:
        return list(self.grant.amr)


@dataclass
class RefreshRecord(TokenMixin):
    grant: Grant

    def check_client(self, client: Any) -> bool:
        return bool(self.grant.client_id == client.get_client_id())

    def get_scope(self) -> str:
        return self.grant.scope

    def get_expires_in(self) -> int:
        return 0

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return self.grant.revoked_at is not None


@dataclass
class GrantUser:
    """The person a token is issued for, with the grant it belongs to."""

    account: Account
    grant: Grant

    def get_user_id(self) -> str:
        return self.account.id
