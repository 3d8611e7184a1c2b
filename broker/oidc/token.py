"""Token endpoint (RFC 6749 §3.2, OIDC Core §3.1.3): authorization_code and refresh_token grants."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from broker.deps import ProtocolRoute, run_protocol
from broker.errors import ProtocolError
from broker.oidc.context import OidcContext
from broker.oidc.form_body import check_form_body
from broker.oidc.openapi import TOKEN
from broker.oidc.requests import BrokerRequest, Params
from broker.oidc.server import BrokerServer

router = APIRouter(tags=["oidc"], route_class=ProtocolRoute)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def authlib_response(result: tuple[int, object, dict[str, str]]) -> JSONResponse:
    status, body, headers = result
    return JSONResponse(body, status_code=status, headers={**headers, **NO_STORE})


@contextmanager
def committed(ctx: OidcContext) -> Iterator[None]:
    """Commit what the request did, also when it is answered with a protocol error: a reused code or
    a replayed refresh token has just revoked its grant, and a client assertion's ``jti`` is spent."""
    try:
        yield
    except ProtocolError:
        ctx.db.commit()
        raise
    ctx.db.commit()


@router.post("/token", **TOKEN)
async def token(request: Request) -> Response:
    return await run_protocol(request, token_response)


def token_response(request: Request, ctx: OidcContext, query: Params, form: Params) -> JSONResponse:
    check_form_body(request.headers, form)
    oauth_request = BrokerRequest("POST", str(request.url), request.headers, query, form)
    with committed(ctx):
        result = BrokerServer(ctx).create_token_response(oauth_request)
    return authlib_response(result)
