"""A relying service in tests: Authlib's OAuth 2.0 client over HTTP, validating ID tokens as Authlib's
OpenID client does (joserfc signature check against the JWKS, then CodeIDToken claim rules)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from joserfc.jws import JWSRegistry

from tests.e2e.agent import Callback


def make_rp_key() -> tuple[ECKey, dict[str, Any]]:
    """A relying service's own ES256 key pair (test fixture material, never the broker's)."""
    key = ECKey.generate_key("P-256", parameters={"kid": secrets.token_hex(8), "alg": "ES256", "use": "sig"})
    return key, {"keys": [key.as_dict(private=False)]}


@dataclass
class RelyingParty:
    issuer: str
    client_id: str
    redirect_uri: str
    client_secret: str | None = None
    private_key: ECKey | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    pending: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.metadata = httpx.get(f"{self.issuer}/.well-known/openid-configuration").json()

    def client(self) -> OAuth2Client:
        if self.private_key is not None:
            client = OAuth2Client(
                self.client_id,
                self.private_key,
                token_endpoint_auth_method="private_key_jwt",
                code_challenge_method="S256",
                redirect_uri=self.redirect_uri,
                timeout=30,
            )
            client.register_client_auth_method(PrivateKeyJWT(self.metadata["token_endpoint"], alg="ES256"))
            return client
        return OAuth2Client(
            self.client_id,
            self.client_secret,
            token_endpoint_auth_method="client_secret_basic",
            code_challenge_method="S256",
            redirect_uri=self.redirect_uri,
            timeout=30,
        )

    def authorization_url(self, scope: str = "openid email", **params: Any) -> str:
        verifier = generate_token(48)
        nonce = generate_token(20)
        with self.client() as client:
            url, state = client.create_authorization_url(
                self.metadata["authorization_endpoint"],
                scope=scope,
                code_verifier=verifier,
                nonce=nonce,
                **params,
            )
        self.pending[state] = {"verifier": verifier, "nonce": nonce}
        return str(url)

    def redeem(self, callback: Callback) -> dict[str, Any]:
        """Exchange the code; returns the token response with ``id_claims`` (validated)."""
        params = callback.params
        assert "error" not in params, params
        assert params["iss"] == self.issuer  # RFC 9207
        pending = self.pending[params["state"]]
        with self.client() as client:
            token = client.fetch_token(
                self.metadata["token_endpoint"],
                authorization_response=callback.url,
                code_verifier=pending["verifier"],
                state=params["state"],
            )
        token = dict(token)
        token["id_claims"] = self.validate_id_token(token, pending["nonce"])
        return token

    def token_request(self, **data: Any) -> httpx.Response:
        """A raw token request, authenticated the way this client's Authlib session would."""
        with self.client() as client:
            return client.request(
                "POST",
                self.metadata["token_endpoint"],
                withhold_token=True,
                auth=client.client_auth(client.token_endpoint_auth_method),
                data=data,
            )

    def jwks(self) -> KeySet:
        return KeySet.import_key_set(httpx.get(self.metadata["jwks_uri"]).json())

    def validate_id_token(self, token: dict[str, Any], nonce: str | None) -> dict[str, Any]:
        decoded = jwt.decode(
            token["id_token"],
            self.jwks(),
            registry=JWSRegistry(algorithms=self.metadata["id_token_signing_alg_values_supported"]),
        )
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {"iss": {"values": [self.issuer]}},
            {"nonce": nonce, "client_id": self.client_id, "access_token": token.get("access_token")},
        )
        claims.validate(leeway=30)
        return {**dict(claims), "_header": decoded.header}

    def userinfo(self, access_token: str) -> httpx.Response:
        return httpx.get(
            self.metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"}
        )


def claims_param(**members: dict[str, Any]) -> str:
    return json.dumps(members)
