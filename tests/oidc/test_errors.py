"""The protocol errors: every named class with its code and status, each rendered by broker/errors.py,
and every ``error`` code the broker can send a relying service named here (broker/oidc/errors.py)."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import types
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidGrantError, UnsupportedGrantTypeError
from authlib.oauth2.rfc6749.authenticate_client import ClientAuthentication

import broker
from broker.errors import ProtocolError, authorize_error_params, protocol_response
from broker.oidc.errors import (
    BY_CODE,
    PROTOCOL_ERRORS,
    AccessDenied,
    AccountSelectionRequired,
    ConsentRequired,
    InsufficientScope,
    InteractionRequired,
    InvalidClient,
    InvalidClientMetadata,
    InvalidGrant,
    InvalidRequest,
    InvalidRequestObject,
    InvalidRequestUri,
    InvalidScope,
    InvalidToken,
    LoginRequired,
    NoCredentials,
    RequestNotSupported,
    RequestUriNotSupported,
    ServerError,
    SlowDown,
    TemporarilyUnavailable,
    TokenInQuery,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    UnsupportedTokenType,
    from_authlib,
    named,
)
from broker.oidc.introspection import Introspection
from broker.oidc.revocation import Revocation
from broker.oidc.server import (
    BrokerOpenIDCode,
    BrokerServer,
    CodeGrant,
    PrivateKeyJWT,
    RefreshGrant,
    S256Required,
)

ROOT = Path(__file__).resolve().parents[2]

# class, its code, its HTTP status, how it is sent when raised ("json": a token endpoint's body)
TABLE: list[tuple[type[ProtocolError], str, int, str]] = [
    (InvalidRequest, "invalid_request", 400, "json"),
    (InvalidClient, "invalid_client", 400, "json"),
    (InvalidGrant, "invalid_grant", 400, "json"),
    (UnauthorizedClient, "unauthorized_client", 400, "json"),
    (UnsupportedGrantType, "unsupported_grant_type", 400, "json"),
    (UnsupportedResponseType, "unsupported_response_type", 400, "json"),
    (InvalidScope, "invalid_scope", 400, "json"),
    (AccessDenied, "access_denied", 400, "json"),
    (ServerError, "server_error", 500, "json"),
    (TemporarilyUnavailable, "temporarily_unavailable", 503, "json"),
    (InteractionRequired, "interaction_required", 400, "json"),
    (LoginRequired, "login_required", 400, "json"),
    (AccountSelectionRequired, "account_selection_required", 400, "json"),
    (ConsentRequired, "consent_required", 400, "json"),
    (InvalidRequestUri, "invalid_request_uri", 400, "json"),
    (InvalidRequestObject, "invalid_request_object", 400, "json"),
    (RequestNotSupported, "request_not_supported", 400, "json"),
    (RequestUriNotSupported, "request_uri_not_supported", 400, "json"),
    (UnsupportedTokenType, "unsupported_token_type", 400, "json"),
    (InvalidClientMetadata, "invalid_client_metadata", 400, "json"),
    (SlowDown, "slow_down", 429, "json"),
    (InvalidToken, "invalid_token", 401, "bearer"),
    (InsufficientScope, "insufficient_scope", 403, "bearer"),
]


def test_every_protocol_error_is_listed_with_its_code_and_status():
    assert [row[0] for row in TABLE] == list(PROTOCOL_ERRORS)
    for cls, code, status, render in TABLE:
        assert (cls.code, cls.status, cls.render) == (code, status, render), cls.__name__
        assert BY_CODE[code] is cls
    assert len(BY_CODE) == len(TABLE)  # one class per code


@pytest.mark.parametrize(("cls", "code", "status", "render"), TABLE, ids=[row[1] for row in TABLE])
def test_each_error_is_answered_with_its_code_and_status(cls, code, status, render):
    response = protocol_response(cls("the reason"))
    assert response.status_code == status
    assert json.loads(response.body) == {"error": code, "error_description": "the reason"}
    assert response.headers["cache-control"] == "no-store"
    if render == "bearer":
        assert (
            response.headers["www-authenticate"] == f'Bearer error="{code}", error_description="the reason"'
        )
    else:
        assert response.headers["pragma"] == "no-cache" and "www-authenticate" not in response.headers
    assert authorize_error_params(cls("the reason")) == [("error", code), ("error_description", "the reason")]


def test_bearer_variants_and_a_request_without_credentials():
    token_in_query = protocol_response(TokenInQuery())
    assert token_in_query.status_code == 400
    assert json.loads(token_in_query.body)["error"] == "invalid_request"
    assert token_in_query.headers["www-authenticate"].startswith('Bearer error="invalid_request"')
    bare = protocol_response(NoCredentials())
    assert (bare.status_code, bare.body, bare.headers["www-authenticate"]) == (401, b"", "Bearer")


def test_an_error_without_a_description_has_none_and_a_redirect_names_its_code():
    response = protocol_response(InvalidGrant())
    assert json.loads(response.body) == {"error": "invalid_grant"}
    assert authorize_error_params(LoginRequired()) == [
        ("error", "login_required"),
        ("error_description", "login_required"),
    ]
    # RFC 6749 §4.1.2.1: characters outside %x20-7E, '"' and '\' never reach the client's URI.
    assert authorize_error_params(InvalidRequest('bad "x"\\é')) == [
        ("error", "invalid_request"),
        ("error_description", "bad ?x???"),
    ]


def test_authlib_errors_keep_what_authlib_decided():
    basic = from_authlib(InvalidClientError(status_code=401, description="no way"))
    assert isinstance(basic, InvalidClient)
    response = protocol_response(basic)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic error="invalid_client", error_description="no way"'
    assert json.loads(response.body) == {"error": "invalid_client", "error_description": "no way"}
    # A header's quoted string may not hold a double quote (Authlib's own rule for its Basic challenge).
    quoted = protocol_response(InvalidClient('no "way"', status=401, challenge="Basic"))
    assert quoted.headers["www-authenticate"] == 'Basic error="invalid_client", error_description="no |way|"'
    with_state = from_authlib(InvalidGrantError("expired", state="st", redirect_uri="https://rp.example/cb"))
    assert isinstance(with_state, InvalidGrant) and with_state.redirect_uri == "https://rp.example/cb"
    assert json.loads(protocol_response(with_state).body) == {
        "error": "invalid_grant",
        "error_description": "expired",
        "state": "st",
    }
    assert json.loads(protocol_response(from_authlib(UnsupportedGrantTypeError("x"))).body) == {
        "error": "unsupported_grant_type"
    }


def test_an_unknown_code_is_a_mistake_in_the_broker():
    with pytest.raises(KeyError):
        named("not_a_code")
    with pytest.raises(KeyError):
        from_authlib(OAuth2Error(error="not_a_code"))


# Every code the broker can send: its own classes, what the Authlib code it runs can raise, the codes
# its modules name by string, and what the golden protocol test records.
def _broker_modules() -> Iterator[types.ModuleType]:
    for info in pkgutil.walk_packages(broker.__path__, "broker."):
        if ".migrations" not in info.name:
            yield importlib.import_module(info.name)


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def own_codes() -> set[str]:
    list(_broker_modules())
    return {cls.code for cls in _subclasses(ProtocolError) if cls.code}


def named_by_string() -> set[str]:
    """String codes handed to ``named`` or ``error_redirect`` anywhere in the broker (the consent page)."""
    found = set()
    for path in (ROOT / "broker").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("named", "error_redirect"):
                found |= {
                    a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                }
    return {code for code in found if code.islower() and " " not in code}


def authlib_codes() -> set[str]:
    """The codes of the Authlib errors raised in the modules whose classes and functions the broker
    runs (its server, grants, extensions, endpoints and client authentication)."""
    used = (BrokerServer, CodeGrant, RefreshGrant, BrokerOpenIDCode, S256Required, PrivateKeyJWT)
    used += (Introspection, Revocation, ClientAuthentication)
    pending = [inspect.getmodule(base) for cls in used for base in cls.__mro__]
    modules: dict[str, types.ModuleType] = {}
    while pending:
        module = pending.pop()
        if module is None or not module.__name__.startswith("authlib.") or module.__name__ in modules:
            continue
        modules[module.__name__] = module
        pending += [inspect.getmodule(v) for v in vars(module).values() if inspect.isfunction(v)]
    codes = set()
    for module in modules.values():
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                cls = vars(module).get(raised.id) if isinstance(raised, ast.Name) else None
                if inspect.isclass(cls) and issubclass(cls, OAuth2Error):
                    codes.add(str(cls.error))
    return codes


def golden_codes() -> set[str]:
    answers = json.loads((ROOT / "tests/e2e/protocol_errors.json").read_text())
    codes = set()
    for answer in answers.values():
        if answer["body"]:
            codes.add(json.loads(answer["body"]).get("error"))
        for name, value in answer["headers"]:
            if name == "location":
                codes.add(dict(parse_qsl(urlsplit(value).query)).get("error"))
    return codes - {None}


def test_every_error_code_the_broker_can_send_is_named():
    sources = {
        "broker": own_codes(),
        "named by string": named_by_string(),
        "authlib": authlib_codes(),
        "golden": golden_codes(),
    }
    # The scans find what they should (a scan that found nothing would prove nothing).
    assert {"login_required", "consent_required", "invalid_token", "request_not_supported"} <= sources[
        "broker"
    ]
    assert "access_denied" in sources["named by string"]
    assert {"invalid_client", "invalid_grant", "unsupported_grant_type", "unsupported_token_type"} <= sources[
        "authlib"
    ]
    assert {"invalid_grant", "invalid_client", "invalid_token", "unsupported_response_type"} <= sources[
        "golden"
    ]
    for where, codes in sources.items():
        assert codes <= set(BY_CODE), f"{where}: {sorted(codes - set(BY_CODE))} have no named class"
