"""A small relying service, built the way we tell integrators to build theirs: Authlib's Starlette
client, PKCE S256, nonce and state, the RFC 9207 ``iss`` check, RP-initiated and back-channel logout.
What it shows (each claim explained, the integration guide) is in ``pages.py``."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import FastAPI, Form, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from joserfc.util import urlsafe_b64decode as base64url_decode
from starlette.middleware.sessions import SessionMiddleware

from broker.demo import pages

STYLES = Path(__file__).parent / "static" / "demo.css"

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
VOCAB = "https://vocab.account.gov.uk/v1/"
CORE_IDENTITY = VOCAB + "coreIdentityJWT"
IDENTITY_CLAIMS = {"userinfo": {CORE_IDENTITY: None, VOCAB + "address": None, VOCAB + "passport": None}}


async def verify_core_identity(issuer: str, client_id: str, sub: str, token: str) -> dict[str, Any]:
    """As a relying service should: the key named ``did:web:<host>#<kid>`` from the broker's
    did.json, ES256 only, our audience, the broker as issuer, the same ``sub`` as the ID token."""
    header = json.loads(base64url_decode(token.split(".")[0].encode()))
    async with httpx.AsyncClient(timeout=10) as client:
        document = (await client.get(f"{issuer}/.well-known/did.json")).json()
    method = next(m for m in document["assertionMethod"] if m["id"] == header["kid"])
    key = ECKey.import_key(method["publicKeyJwk"])
    decoded = jwt.decode(token, key, algorithms=["ES256"])
    claims = dict(decoded.claims)
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True, "value": sub},
    ).validate(claims)
    return {"vot": claims["vot"], **claims["vc"]["credentialSubject"]}


def _http_problem(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"it answered {exc.response.status_code}"
    return f"no answer ({type(exc).__name__})"


class LogoutLedger:
    """Session ids the broker told us have ended, and logout token ids seen in the last 3 minutes."""

    def __init__(self) -> None:
        self.ended_sids: set[str] = set()
        self._jtis: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_jti(self, jti: str) -> bool:
        now = time.monotonic()
        with self._lock:
            self._jtis = {k: v for k, v in self._jtis.items() if now - v < 180}
            if jti in self._jtis:
                return False
            self._jtis[jti] = now
            return True


def create_rp_app(
    *,
    issuer: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    post_logout_redirect_uri: str,
    session_secret: str,
    scope: str = "openid email phone",
    name: str = "Demo service",
    other: tuple[str, str] = ("Second demo service", "/"),
    frontend: Path | None = None,
) -> FastAPI:
    """The demo service ``name``; ``other`` is the other demo service's name and address (for single
    sign-on), ``frontend`` GOV.UK Frontend's ``dist/govuk`` folder (its CSS, fonts and images)."""
    app = FastAPI(title=name, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret,
        session_cookie=f"{client_id}-session",
        same_site="lax",
    )
    if frontend is not None:
        app.mount("/govuk", StaticFiles(directory=frontend), name="govuk")
        app.mount("/assets", StaticFiles(directory=frontend / "assets"), name="assets")
    oauth = OAuth()
    oauth.register(
        "broker",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": scope,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
        },
    )
    ledger = LogoutLedger()
    frame: dict[str, Any] = {"service_name": name, "issuer": issuer, "other_name": other[0], "other_url": other[1]}

    def failed(title: str, why: str) -> Response:
        return pages.page("failed.html", 400, title=title, why=why, **frame)

    @app.get("/demo.css")
    async def styles() -> Response:
        return FileResponse(STYLES, media_type="text/css")

    @app.get("/")
    async def home(request: Request) -> Response:
        signed_in = request.session.get("signed_in")
        if signed_in and signed_in.get("sid") in ledger.ended_sids:
            request.session.clear()
            signed_in = None
        if not signed_in:
            return pages.page("start.html", title="Start", **frame)
        return pages.page(
            "signed_in.html",
            title="You are signed in",
            width="full",
            sub=signed_in["claims"].get("sub", ""),
            id_token=pages.explained(signed_in["claims"], pages.CLAIMS_EXPLAINED),
            raw_id_token=signed_in["id_token"],
            userinfo=pages.as_json(signed_in["userinfo"]),
            identity=(
                pages.identity_rows(signed_in["identity"], signed_in["userinfo"])
                if signed_in.get("identity")
                else None
            ),
            **frame,
        )

    @app.get("/signed-out")
    async def signed_out(request: Request) -> Response:
        request.session.clear()
        return pages.page("signed_out.html", title="You have signed out", **frame)

    @app.get("/integrating")
    async def integrating() -> Response:
        return pages.page(
            "integrating.html", title="Connect your service to the broker", guide=pages.guide_html(), **frame
        )

    @app.post("/login")
    async def login(request: Request, identity: str = Form("")) -> Response:
        extra: dict[str, Any] = {"vtr": '["Cl.Cm"]'}
        if identity:
            extra = {"vtr": '["Cl.Cm.P2"]', "claims": json.dumps(IDENTITY_CLAIMS)}
        return await oauth.broker.authorize_redirect(request, redirect_uri, **extra)  # type: ignore[no-any-return]

    @app.get("/callback")
    async def callback(request: Request) -> Response:
        if request.query_params.get("iss") != issuer:  # RFC 9207 mix-up defence
            return failed("Sign-in failed", "The response did not come from the expected broker.")
        try:
            token = await oauth.broker.authorize_access_token(request)
        except OAuthError as exc:
            return failed("Sign-in did not finish", f"{exc.error or ''}: {exc.description or ''}")
        except JoseError as exc:  # the ID token did not verify (expired, wrong audience, bad signature)
            return failed("Sign-in failed", f"The ID token from the broker is not valid: {exc.description or exc.error}")
        except httpx.HTTPError as exc:
            return failed("Sign-in failed", f"The broker's token endpoint could not be used: {_http_problem(exc)}")
        try:
            userinfo = dict(await oauth.broker.userinfo(token=token))
        except httpx.HTTPError as exc:  # e.g. 403 when the data sharing agreement stopped meanwhile
            return failed("Sign-in failed", f"The broker did not give the user's details: {_http_problem(exc)}")
        claims = dict(token["userinfo"])
        identity = None
        if CORE_IDENTITY in userinfo:
            try:
                identity = await verify_core_identity(
                    issuer, client_id, claims["sub"], userinfo[CORE_IDENTITY]
                )
            except (JoseError, httpx.HTTPError, KeyError, StopIteration) as exc:
                return failed("Sign-in failed", f"The identity could not be verified: {exc}")
            userinfo[CORE_IDENTITY] = "(a signed JWT, verified: see Your proven identity)"
        request.session["signed_in"] = {
            "claims": claims,
            "userinfo": userinfo,
            "identity": identity,
            "sid": claims.get("sid"),
            "id_token": token["id_token"],
        }
        return RedirectResponse("/", status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        id_token = (request.session.get("signed_in") or {}).get("id_token")
        request.session.clear()
        return await oauth.broker.logout_redirect(  # type: ignore[no-any-return]
            request, post_logout_redirect_uri=post_logout_redirect_uri, id_token_hint=id_token
        )

    @app.post("/backchannel-logout")
    async def backchannel_logout(logout_token: str = Form("")) -> Response:
        try:
            async with httpx.AsyncClient() as http:
                metadata = await oauth.broker.load_server_metadata()
                keys = KeySet.import_key_set((await http.get(metadata["jwks_uri"])).json())
            decoded = jwt.decode(logout_token, keys)
            # Explicit typing (RFC 8725 3.11): an ID token or other JWT of the broker is no logout token.
            if decoded.header.get("typ") != "logout+jwt":
                raise ValueError("the token's typ is not logout+jwt")
            claims = decoded.claims
            registry = jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": issuer},
                aud={"essential": True, "value": client_id},
                iat={"essential": True},
                jti={"essential": True},
            )
            registry.validate(claims)
        except (JoseError, ValueError, KeyError) as exc:
            return JSONResponse({"error": "invalid_request", "error_description": str(exc)}, 400)
        if BACKCHANNEL_EVENT not in (claims.get("events") or {}) or "nonce" in claims:
            return JSONResponse({"error": "invalid_request", "error_description": "not a logout token"}, 400)
        if not ledger.first_jti(str(claims["jti"])):
            return JSONResponse({"error": "invalid_request", "error_description": "replayed"}, 400)
        if claims.get("sid"):
            ledger.ended_sids.add(str(claims["sid"]))
        return Response(status_code=200, headers={"Cache-Control": "no-store"})

    app.state.ledger = ledger
    return app
