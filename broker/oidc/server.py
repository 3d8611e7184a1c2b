"""Authlib's authorization server, wired to our storage. Protocol rules stay in Authlib;
this module fills in its storage hooks, and is built per request around an :class:`OidcContext`.

The hooks raise Authlib's own error classes, which Authlib's flow expects; whatever error Authlib
answers with leaves the server as the broker's named error (broker/oidc/errors.py), raised, for
broker/errors.py to render."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Error,
    UnsupportedResponseTypeError,
    grants,
)
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode
from joserfc.jwk import KeySet

from broker.accounts.subject import subject
from broker.oidc.adapters import CodeRecord, GrantUser, OidcClient, RefreshRecord, hash_secret
from broker.oidc.context import OidcContext
from broker.oidc.errors import InvalidRequest, from_authlib
from broker.oidc.identity_claims import identity_values
from broker.oidc.release import agreement_in_force, record, releasable
from broker.oidc.tokens import ID_TOKEN_TYP, access_token_claims, account_claims, id_token_claims, new_jti
from broker.policy.claims import CLAIMS_SUPPORTED
from broker.store.base import Base
from broker.store.models import Account, AuthorizationCode, Grant, IssuedAccessToken, RefreshToken

TOKEN_AUTH_METHODS = ["client_secret_basic", "private_key_jwt"]


@dataclass
class Approval:
    """What the authorize endpoint hands Authlib as the ``grant_user``: who, and how they signed in."""

    account: Account
    session_id: str
    auth_time: datetime
    amr: list[str]
    vot: str
    identity_vot: str | None  # the identity level the grant may release, when one was asked for
    claims: dict[str, Any]  # the OIDC claims request, narrowed to what may be released

    def get_user_id(self) -> str:
        return self.account.id


class BrokerServer(AuthorizationServer):
    def __init__(self, ctx: OidcContext) -> None:
        super().__init__(scopes_supported=None)
        self.ctx = ctx
        self._issued_jti: str | None = None
        self.register_token_generator("default", self._generate_token)
        self.register_client_auth_method("private_key_jwt", PrivateKeyJWT(ctx))
        self.register_grant(CodeGrant, [S256Required(), BrokerOpenIDCode(ctx)])
        self.register_grant(RefreshGrant, [BrokerOpenIDCode(ctx)])

    # Authlib hooks
    def query_client(self, client_id: str) -> OidcClient | None:
        row = self.ctx.repo.client(client_id) if isinstance(client_id, str) else None
        return OidcClient(row) if row else None

    # Authlib builds some error descriptions from the request's own values and raises ValueError when
    # those hold characters RFC 6749 forbids in descriptions: answer invalid_request instead of a 500.
    def create_token_response(self, request: Any = None) -> Any:
        try:
            return super().create_token_response(request)
        except ValueError:
            raise InvalidRequest("malformed parameter") from None

    def create_endpoint_response(self, name: str, request: Any = None) -> Any:
        try:
            return super().create_endpoint_response(name, request)
        except ValueError:
            raise InvalidRequest("malformed parameter") from None

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Any:
        raise from_authlib(error) from None

    def create_oauth2_request(self, request: Any) -> Any:
        # Endpoints build a BrokerRequest from the Starlette request before calling in.
        return request

    def get_authorization_grant(self, request: Any) -> Any:
        # RFC 6749 §3.1: with client_id or redirect_uri given twice, no redirect URI can be trusted.
        for name in ("client_id", "redirect_uri"):
            if len(request.payload.datalist.get(name, [])) > 1:
                raise InvalidRequestError(f"{name} given more than once")
        try:
            return super().get_authorization_grant(request)
        except UnsupportedResponseTypeError as error:
            if request.payload.response_type:
                raise
            # RFC 6749 §4.1.2.1: a missing required parameter is invalid_request, sent to a trusted URI.
            raise InvalidRequestError("response_type is required", redirect_uri=error.redirect_uri) from None

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, dict[str, str]]:
        return status, body, dict(headers)

    def _generate_token(
        self,
        grant_type: str,
        client: OidcClient,
        user: GrantUser,
        scope: str,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        settings = self.ctx.settings
        jti = new_jti()
        self._issued_jti = jti
        claims = access_token_claims(
            issuer=settings.issuer,
            client_id=client.client_id,
            sub=subject(client.row, user.account),
            grant=user.grant,
            scope=scope,
            now=self.ctx.clock(),
            ttl=settings.access_token_ttl,
            jti=jti,
        )
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": self.ctx.signer.sign(claims, alg="ES256", typ="at+jwt"),
            "expires_in": settings.access_token_ttl,
            "scope": scope,
        }
        if include_refresh_token and "offline_access" in scope_to_list(scope):
            token["refresh_token"] = secrets.token_urlsafe(32)
        return token

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        now = self.ctx.clock()
        grant: Grant = request.user.grant
        assert self._issued_jti is not None
        rows: list[Base] = [
            IssuedAccessToken(
                jti=self._issued_jti,
                grant_id=grant.id,
                expires_at=now + timedelta(seconds=self.ctx.settings.access_token_ttl),
            )
        ]
        if "refresh_token" in token:
            rows.append(
                RefreshToken(
                    token_hash=hash_secret(token["refresh_token"]),
                    grant_id=grant.id,
                    created_at=now,
                    expires_at=now + timedelta(seconds=self.ctx.settings.refresh_token_ttl),
                )
            )
        self.ctx.repo.add(*rows)


def require_agreement_in_force(ctx: OidcContext, grant: Grant) -> None:
    """Tokens are issued only while the service's data sharing agreement is in force."""
    if agreement_in_force(ctx, grant) is None:
        raise InvalidGrantError(description="the service's data sharing agreement is not in force")


def grant_user(ctx: OidcContext, grant: Grant) -> GrantUser | None:
    require_agreement_in_force(ctx, grant)
    account = ctx.repo.account(grant.account_id)
    return GrantUser(account, grant) if account else None


class S256Required(CodeChallenge):
    """PKCE with S256, for every client (RFC 9700 §2.1.1): a missing or ``plain`` challenge is refused."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - Authlib's class attribute

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: CodeRecord) -> str:
        return authorization_code.row.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: CodeRecord) -> str:
        return authorization_code.row.code_challenge_method


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    server: BrokerServer

    @staticmethod
    def validate_no_multiple_request_parameter(request: Any) -> None:
        return None  # checked once the redirect URI is trusted, so the error can go back to the client

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        # RFC 6749 §3.1: no parameter may be sent twice (state, scope, nonce, ... alike).
        repeated = sorted(name for name, values in self.request.payload.datalist.items() if len(values) > 1)
        if repeated:
            raise InvalidRequestError(
                f"given more than once: {', '.join(repeated)}", redirect_uri=redirect_uri
            )
        return redirect_uri

    def generate_authorization_code(self) -> str:
        # 256 bits from the OS in one call (Authlib draws each of its 48 characters separately).
        return secrets.token_urlsafe(32)

    def save_authorization_code(self, code: str, request: Any) -> None:
        ctx = self.server.ctx
        approval: Approval = request.user
        now = ctx.clock()
        grant = Grant(
            client_id=request.client.client_id,
            account_id=approval.account.id,
            session_id=approval.session_id,
            scope=request.scope,
            claims=approval.claims,
            vot=approval.vot,
            identity_vot=approval.identity_vot,
            amr=approval.amr,
            auth_time=approval.auth_time,
            created_at=now,
        )
        ctx.repo.add(grant)
        data = request.payload.data
        ctx.repo.add(
            AuthorizationCode(
                code_hash=hash_secret(code),
                grant_id=grant.id,
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri,
                nonce=data.get("nonce"),
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                created_at=now,
                expires_at=now + timedelta(seconds=ctx.settings.authorization_code_ttl),
            )
        )

    def query_authorization_code(self, code: str, client: OidcClient) -> CodeRecord | None:
        ctx = self.server.ctx
        now = ctx.clock()
        row, first_use = ctx.repo.claim_code(code, client.client_id, now)
        if row is None:
            return None
        if not first_use:
            # RFC 6749 §4.1.2: a code used twice revokes every token issued from it.
            ctx.repo.revoke_grant(row.grant_id, now, "authorization code reused")
            return None
        grant = ctx.repo.grant_with_account(row.grant_id)
        if grant is None or grant.revoked_at is not None or row.expires_at <= now:
            return None
        return CodeRecord(row, grant)

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        # Already marked used when it was claimed; the row stays to detect reuse.
        return None

    def authenticate_user(self, authorization_code: CodeRecord) -> GrantUser | None:
        return grant_user(self.server.ctx, authorization_code.grant)


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: BrokerServer

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshRecord | None:
        ctx = self.server.ctx
        now = ctx.clock()
        held = ctx.repo.refresh_token(refresh_token)
        grant = ctx.repo.grant(held.grant_id) if held is not None else None
        if grant is not None and grant.client_id == self.request.client.client_id:
            # Refused before it is used up: once the agreement is back in force the service's next
            # refresh must not look like a replay (which would end the grant).
            require_agreement_in_force(ctx, grant)
        row, first_use = ctx.repo.claim_refresh_token(refresh_token, self.request.client.client_id, now)
        if row is None:
            return None
        if not first_use:
            # A replayed refresh token means two parties hold it: end the whole family.
            ctx.repo.revoke_grant(row.grant_id, now, "refresh token replayed")
            return None
        grant = ctx.repo.grant(row.grant_id)
        if grant is None or grant.revoked_at is not None or row.expires_at <= now:
            return None
        return RefreshRecord(grant)

    def authenticate_user(self, refresh_token: RefreshRecord) -> GrantUser | None:
        return grant_user(self.server.ctx, refresh_token.grant)

    def revoke_old_credential(self, refresh_token: RefreshRecord) -> None:
        return None  # marked used when claimed


class BrokerOpenIDCode(OpenIDCode):
    """ID tokens, signed by ``keys`` with the algorithm the client registered."""

    def __init__(self, ctx: OidcContext) -> None:
        super().__init__(require_nonce=False)
        self.ctx = ctx

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return False  # codes are single-use; the RP checks its own nonce

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        ctx = self.ctx
        client: OidcClient = request.client
        user: GrantUser = request.user
        alg = client.alg
        asked, agreement = releasable(ctx, user.grant, user.grant.claims.get("id_token", {}))
        sub = subject(client.row, user.account)
        code = request.authorization_code
        claims = id_token_claims(
            issuer=ctx.settings.issuer,
            client_id=client.client_id,
            sub=sub,
            grant=user.grant,
            now=ctx.clock(),
            ttl=ctx.settings.id_token_ttl,
            vtm=ctx.settings.vtm,
            nonce=code.get_nonce() if code else None,
            access_token=token.get("access_token"),
            alg=alg,
            extra={
                **account_claims(user.account, set(asked) & set(CLAIMS_SUPPORTED)),
                **identity_values(ctx, user.grant, sub, asked),
            },
        )
        record(ctx, user.grant, agreement, set(claims) & set(CLAIMS_SUPPORTED), "token")
        return ctx.signer.sign(claims, alg=alg, typ=ID_TOKEN_TYP)


class PrivateKeyJWT(JWTBearerClientAssertion):
    """``private_key_jwt`` (OIDC Core §9): the assertion's ``jti`` is single-use."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, ctx: OidcContext) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.ctx = ctx

    def get_audiences(self) -> list[str]:
        return [self.ctx.url("/token"), self.ctx.settings.issuer]

    def verify_claims(self, claims: Any) -> None:
        now = int(self.ctx.clock().timestamp())
        exp = claims.get("exp")
        if isinstance(exp, int) and exp - now > self.ctx.settings.client_assertion_max_age:
            raise InvalidClientError(description="client assertion lives too long")
        super().verify_claims(claims)

    def validate_jti(self, claims: Any, jti: str) -> bool:
        now = self.ctx.clock()
        ttl = max(int(claims["exp"]) - int(now.timestamp()), 0) + self.leeway
        return self.ctx.replay.first_use(self.ctx.db, f"assertion:{claims['sub']}:{jti}", ttl, now)

    def resolve_client_public_key(self, client: OidcClient) -> KeySet:
        try:
            return self.ctx.client_keys.key_set(client.row)
        except Exception as exc:  # an unreachable or malformed JWKS is the client's problem, not a 500
            raise InvalidClientError(description="the client's keys could not be loaded") from exc
