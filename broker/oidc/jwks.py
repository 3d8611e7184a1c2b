"""The broker's public keys: next, current and retired (RFC 7517), and as a did:web document."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from broker.deps import ServicesDep
from broker.oidc.identity_claims import did_for
from broker.oidc.openapi import JSON_DOCUMENT
from keys.lifecycle import JWKS_MAX_AGE, JWKS_STALE_WHILE_REVALIDATE

router = APIRouter(tags=["discovery"])

# Short enough that a relying service sees a new next key before it starts signing: rotation waits
# for these to pass (keys.lifecycle.NEXT_KEY_MIN_AGE).
JWKS_CACHE = f"public, max-age={JWKS_MAX_AGE}, stale-while-revalidate={JWKS_STALE_WHILE_REVALIDATE}"


@router.get("/.well-known/jwks.json", **JSON_DOCUMENT)
def jwks(services: ServicesDep) -> JSONResponse:
    return JSONResponse(services.signer.jwks(), headers={"Cache-Control": JWKS_CACHE})


@router.get("/.well-known/did.json", **JSON_DOCUMENT)
def did_document(services: ServicesDep) -> JSONResponse:
    """The identity signing keys as a ``did:web`` document: core identity JWTs name their key
    ``did:web:<host>#<kid>`` and relying services resolve it here (One Login's convention)."""
    did = did_for(services.settings.issuer)
    methods = [
        {
            "type": "JsonWebKey2020",
            "id": f"{did}#{key['kid']}",
            "controller": did,
            "publicKeyJwk": {k: v for k, v in key.items() if k in ("kty", "crv", "x", "y", "alg", "kid")},
        }
        for key in services.signer.jwks()["keys"]
        if key.get("alg") == "ES256"
    ]
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": did,
        "assertionMethod": methods,
        "verificationMethod": methods,
    }
    return JSONResponse(document, headers={"Cache-Control": JWKS_CACHE})
