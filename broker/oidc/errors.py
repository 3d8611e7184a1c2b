"""The protocol errors: one named class per OAuth 2.0 / OpenID Connect ``error`` code, carrying its
HTTP status, as node-oidc-provider's ``lib/helpers/errors.js`` has them.

The protocol layer raises these; only ``broker/errors.py`` turns them into a response (a token
endpoint's JSON, a bearer challenge, or a redirect to the client). Authlib keeps its own protocol
rules and raises its own classes: :func:`from_authlib` names each of those by its code, so what a
relying service sees is decided in the same place whoever raised the error.
"""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error

from broker.errors import ProtocolError, authlib_error


# RFC 6749 §4.1.2.1 and §5.2: the authorization and token endpoints.
class InvalidRequest(ProtocolError):
    code = "invalid_request"


class InvalidClient(ProtocolError):
    code = "invalid_client"  # 401 where the client authenticated with a header (§5.2); Authlib decides


class InvalidGrant(ProtocolError):
    code = "invalid_grant"


class UnauthorizedClient(ProtocolError):
    code = "unauthorized_client"


class UnsupportedGrantType(ProtocolError):
    code = "unsupported_grant_type"


class UnsupportedResponseType(ProtocolError):
    code = "unsupported_response_type"


class InvalidScope(ProtocolError):
    code = "invalid_scope"


class AccessDenied(ProtocolError):
    code = "access_denied"


class ServerError(ProtocolError):
    status = 500
    code = "server_error"


class TemporarilyUnavailable(ProtocolError):
    status = 503
    code = "temporarily_unavailable"


# OpenID Connect Core §3.1.2.6: what a request that may not show a page (prompt=none) is answered.
class InteractionRequired(ProtocolError):
    code = "interaction_required"


class LoginRequired(ProtocolError):
    code = "login_required"


class AccountSelectionRequired(ProtocolError):
    code = "account_selection_required"


class ConsentRequired(ProtocolError):
    code = "consent_required"


class InvalidRequestUri(ProtocolError):
    code = "invalid_request_uri"


class InvalidRequestObject(ProtocolError):
    code = "invalid_request_object"


class RequestNotSupported(ProtocolError):
    code = "request_not_supported"


class RequestUriNotSupported(ProtocolError):
    code = "request_uri_not_supported"


# RFC 7009 §2.2.1: revocation.
class UnsupportedTokenType(ProtocolError):
    code = "unsupported_token_type"


# RFC 7591 §3.2.2: a client registration (the command line and the admin console register clients).
class InvalidClientMetadata(ProtocolError):
    code = "invalid_client_metadata"


# RFC 8628 §3.5, and the broker's answer to too many attempts.
class SlowDown(ProtocolError):
    status = 429
    code = "slow_down"


# RFC 6750 §3.1: resources protected by the broker's access tokens (UserInfo) challenge with Bearer.
class InvalidToken(ProtocolError):
    status = 401
    code = "invalid_token"
    render = "bearer"
    title = "The access token is invalid"


class InsufficientScope(ProtocolError):
    status = 403
    code = "insufficient_scope"
    render = "bearer"
    title = "The access token does not allow this"


class NoCredentials(ProtocolError):
    """No access token at all, or another scheme than Bearer: the challenge names the scheme only
    (RFC 6750 §3.1: no error code when the request lacks authentication information)."""

    status = 401
    code = ""
    render = "bearer"
    title = "Send an access token as 'Authorization: Bearer <token>'"


class TokenInQuery(InvalidRequest):
    """RFC 6750 §2: the broker accepts access tokens in the Authorization header only."""

    render = "bearer"
    title = "Send the access token in the Authorization header"


PROTOCOL_ERRORS: tuple[type[ProtocolError], ...] = (
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
    InteractionRequired,
    LoginRequired,
    AccountSelectionRequired,
    ConsentRequired,
    InvalidRequestUri,
    InvalidRequestObject,
    RequestNotSupported,
    RequestUriNotSupported,
    UnsupportedTokenType,
    InvalidClientMetadata,
    SlowDown,
    InvalidToken,
    InsufficientScope,
)
# The one map from an ``error`` code to its class (the bearer variants are the codes' own classes).
BY_CODE: dict[str, type[ProtocolError]] = {cls.code: cls for cls in PROTOCOL_ERRORS}


def named(code: str, description: str = "") -> ProtocolError:
    """The named error for ``code``; an unknown code is a mistake in the broker, not the client's."""
    return BY_CODE[code](description)


def from_authlib(error: OAuth2Error) -> ProtocolError:
    """Authlib's error as the broker's named one (an unknown code fails loudly: add it above)."""
    return authlib_error(error, BY_CODE[str(error.error)])
