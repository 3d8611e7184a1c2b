"""The broker's public keys: next, current and retired (RFC 7517)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from broker.deps import ServicesDep
from broker.oidc.openapi import JSON_DOCUMENT

router = APIRouter(tags=["discovery"])

# Short enough that a relying service sees a new next key well before it starts signing.
JWKS_CACHE = "public, max-age=300, stale-while-revalidate=60"


@router.get("/.well-known/jwks.json", **JSON_DOCUMENT)
def jwks(services: ServicesDep) -> JSONResponse:
    return JSONResponse(services.signer.jwks(), headers={"Cache-Control": JWKS_CACHE})
