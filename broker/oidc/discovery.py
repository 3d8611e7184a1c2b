"""OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414), built once per settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from broker.config import Settings
from broker.deps import ServicesDep
from broker.oidc.openapi import JSON_DOCUMENT
from broker.oidc.tokens import ID_TOKEN_CLAIMS
from broker.oidc.vtr import AUTH_LEVELS, IDENTITY_LEVELS, SUPPORTED_VTR
from broker.policy.claims import CLAIMS_SUPPORTED, SCOPES_SUPPORTED

router = APIRouter(tags=["discovery"])

SIGNING_ALGS = ["ES256", "RS256"]
# OIDC Discovery §3: every claim the broker can issue, in ID tokens and at userinfo.
CLAIMS_ISSUED = list(ID_TOKEN_CLAIMS) + [c for c in CLAIMS_SUPPORTED if c not in ID_TOKEN_CLAIMS]
AUTH_METHODS = ["private_key_jwt", "client_secret_basic"]
# The relying-service integration guide: from a source checkout, or docs/ in the working directory (the
# container image copies it to /app/docs); an install without it does not advertise it.
GUIDE_PATHS = (
    Path(__file__).resolve().parents[2] / "docs" / "integrating.md",
    Path("docs") / "integrating.md",
)
INTEGRATION_GUIDE = next((path for path in GUIDE_PATHS if path.is_file()), GUIDE_PATHS[0])


def metadata(settings: Settings) -> dict[str, Any]:
    return _metadata(settings.issuer, settings.vtm, INTEGRATION_GUIDE.is_file())


@lru_cache(maxsize=8)
def _metadata(issuer: str, vtm: str, guide: bool) -> dict[str, Any]:
    """Built once per issuer: discovery never re-renders per request."""
    documentation = {"service_documentation": f"{issuer}/docs/integrating"} if guide else {}
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "end_session_endpoint": f"{issuer}/logout",
        "revocation_endpoint": f"{issuer}/revoke",
        "introspection_endpoint": f"{issuer}/introspect",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
        "id_token_signing_alg_values_supported": SIGNING_ALGS,
        "userinfo_signing_alg_values_supported": [],
        "subject_types_supported": ["pairwise", "public"],
        "scopes_supported": SCOPES_SUPPORTED,
        "claims_supported": CLAIMS_ISSUED,
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "vtr_values_supported": SUPPORTED_VTR,
        "trustmarks": vtm,
        "ui_locales_supported": ["en", "cy"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "authorization_response_iss_parameter_supported": True,
        **documentation,
        # OpenID Connect for Identity Assurance 1.0 §8
        "verified_claims_supported": True,
        "trust_frameworks_supported": ["uk_diatf"],
        "evidence_supported": ["document", "electronic_record"],
        "documents_supported": ["passport", "driving_permit"],
        "claims_in_verified_claims_supported": ["given_name", "family_name", "birthdate", "address"],
    }


@router.get("/.well-known/openid-configuration", **JSON_DOCUMENT)
def openid_configuration(services: ServicesDep) -> JSONResponse:
    return JSONResponse(metadata(services.settings), headers={"Cache-Control": "public, max-age=3600"})


def trustmark(issuer: str) -> dict[str, Any]:
    """The levels the broker is trusted to assert, as GOV.UK One Login publishes its trust mark (the
    ``vtm`` claim names this document): credential levels ``C`` and identity levels ``P``."""
    return {"idp": issuer, "trustmark_provider": issuer, "C": list(AUTH_LEVELS), "P": list(IDENTITY_LEVELS)}


@router.get("/trustmark", **JSON_DOCUMENT)
def trustmark_document(services: ServicesDep) -> JSONResponse:
    return JSONResponse(
        trustmark(services.settings.issuer), headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/docs/integrating", include_in_schema=False)
def integration_guide() -> Response:
    if not INTEGRATION_GUIDE.is_file():
        return Response(status_code=404)
    return Response(
        INTEGRATION_GUIDE.read_bytes(),
        media_type="text/markdown; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )
