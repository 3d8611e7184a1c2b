"""OpenAPI descriptions of the protocol endpoints (their handlers read raw forms for Authlib, so the
shapes are written out here) — what schemathesis tests against."""

from __future__ import annotations

from typing import Any

STRING: dict[str, Any] = {"type": "string"}
ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": STRING, "error_description": STRING},
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": STRING}}}


ERRORS: dict[str, Any] = {
    "400": _json(ERROR, "The request is malformed (RFC 6749 §5.2)"),
    "401": _json(ERROR, "Client authentication failed, or the token is not valid"),
    "413": _json(ERROR, "The request body is too large"),
}
REDIRECT: dict[str, Any] = {"description": "Redirect", "headers": {"Location": {"schema": STRING}}}


def form(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {
        "requestBody": {
            "required": False,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }


def query(names: list[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "parameters": [{"name": n, "in": "query", "required": n in required, "schema": STRING} for n in names]
    }


TOKEN_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in"],
    "properties": {
        "access_token": STRING,
        "token_type": STRING,
        "expires_in": {"type": "integer"},
        "refresh_token": STRING,
        "id_token": STRING,
        "scope": STRING,
    },
}

TOKEN: dict[str, Any] = {
    "openapi_extra": form(
        {
            "grant_type": {"type": "string", "enum": ["authorization_code", "refresh_token"]},
            "code": STRING,
            "redirect_uri": STRING,
            "code_verifier": STRING,
            "refresh_token": STRING,
            "scope": STRING,
            "client_id": STRING,
            "client_assertion_type": STRING,
            "client_assertion": STRING,
        }
    ),
    "responses": {"200": _json(TOKEN_RESPONSE, "Tokens"), **ERRORS},
}

USERINFO: dict[str, Any] = {
    "responses": {
        "200": _json({"type": "object", "required": ["sub"], "properties": {"sub": STRING}}, "Claims"),
        **ERRORS,
        # RFC 6750 §3.1: without any token the answer is a bare challenge, no body; a bad token's has one.
        "401": {"description": "No access token (no body), or the token is not valid (a JSON error)"},
        "403": _json(ERROR, "Insufficient scope"),
    },
}

TOKEN_ENDPOINT: dict[str, Any] = form({"token": STRING, "token_type_hint": STRING})

REVOKE: dict[str, Any] = {
    "openapi_extra": TOKEN_ENDPOINT,
    "responses": {"200": _json({"type": "object"}, "Revoked (or never known)"), **ERRORS},
}
INTROSPECT: dict[str, Any] = {
    "openapi_extra": TOKEN_ENDPOINT,
    "responses": {
        "200": _json(
            {"type": "object", "required": ["active"], "properties": {"active": {"type": "boolean"}}},
            "Token state",
        ),
        **ERRORS,
    },
}

AUTHORIZE_PARAMS = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "ui_locales",
    "claims",
    "vtr",
]
AUTHORIZE: dict[str, Any] = {
    "openapi_extra": query(AUTHORIZE_PARAMS),
    "responses": {
        "302": REDIRECT,
        "303": REDIRECT,
        "400": _html("Error page: the client or redirect URI is not trusted, so there is no redirect"),
    },
}
LOGOUT: dict[str, Any] = {
    "openapi_extra": query(["id_token_hint", "post_logout_redirect_uri", "state", "client_id", "ui_locales"]),
    "responses": {
        "200": _html("Confirmation or signed-out page"),
        "303": REDIRECT,
        "400": _html("The sign-out request is not valid"),
    },
}
JSON_DOCUMENT: dict[str, Any] = {"responses": {"200": _json({"type": "object"}, "Document")}}
