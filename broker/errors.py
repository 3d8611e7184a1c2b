"""The domain error family, and the one place that turns errors into HTTP responses.

Services raise these deep down; only :func:`install_error_handlers` decides what the person or the
relying service sees. A 5xx never shows its details.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import structlog
from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response

log = structlog.get_logger(__name__)

Rendering = Literal["page", "json", "bearer", "redirect"]


class BrokerError(Exception):
    """Base of every error a service may raise on purpose."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "invalid_request"
    render: ClassVar[Rendering] = "json"
    title: ClassVar[str] = "There is a problem"

    def __init__(self, description: str = "") -> None:
        super().__init__(description or self.title)
        self.description = description or self.title


# Pages a person sees (never a redirect to an untrusted place).
class PageError(BrokerError):
    render = "page"


class UnknownClient(PageError):
    title = "The service you came from is not recognised"


class UntrustedRedirectUri(PageError):
    title = "The service you came from sent an address we do not trust"


class InteractionExpired(PageError):
    title = "Your sign-in took too long"
    code = "interaction_expired"


class PageNotFound(PageError):
    status = 404
    title = "Page not found"
    code = "not_found"


class SignInFirst(BrokerError):
    """Not a failure: the person must sign in, then comes back to ``location``'s ``next``."""

    status = 303
    render = "redirect"
    title = "Sign in first"

    def __init__(self, location: str) -> None:
        super().__init__()
        self.location = location


class FormInvalid(PageError):
    """Raised only where a page cannot show its own error summary."""


# Bearer-protected endpoints (RFC 6750 §3).
class InvalidToken(BrokerError):
    status = 401
    code = "invalid_token"
    render = "bearer"
    title = "The access token is invalid"


class InsufficientScope(BrokerError):
    status = 403
    code = "insufficient_scope"
    render = "bearer"
    title = "The access token does not allow this"


class RateLimited(BrokerError):
    status = 429
    code = "slow_down"
    title = "Too many attempts"


class NotReady(BrokerError):
    status = 503
    code = "temporarily_unavailable"
    title = "Not ready"


def _page(request: Request, status: int, title: str, description: str) -> Response:
    templates = getattr(request.app.state, "templates", None)
    if templates is None:  # during very early start-up only
        return HTMLResponse(f"<h1>{title}</h1><p>{description}</p>", status_code=status)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"title": title, "description": description},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def error_response(request: Request, error: BrokerError) -> Response:
    if isinstance(error, SignInFirst):
        return Response(status_code=303, headers={"Location": error.location, "Cache-Control": "no-store"})
    if error.render == "page":
        return _page(request, error.status, error.title, error.description)
    body = {"error": error.code, "error_description": error.description}
    headers = {"Cache-Control": "no-store"}
    if error.render == "bearer":
        headers["WWW-Authenticate"] = f'Bearer error="{error.code}", error_description="{error.description}"'
    return JSONResponse(body, status_code=error.status, headers=headers)


def oauth2_error_response(error: OAuth2Error) -> Response:
    status, body, headers = error()
    return JSONResponse(dict(body), status_code=status, headers=dict(headers))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BrokerError)
    async def _broker_error(request: Request, exc: BrokerError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(OAuth2Error)
    async def _oauth2_error(request: Request, exc: OAuth2Error) -> Response:
        return oauth2_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        description = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
        return JSONResponse(
            {"error": "invalid_request", "error_description": description},
            status_code=400,
            headers={"Cache-Control": "no-store"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and "text/html" in request.headers.get("accept", ""):
            return _page(request, 404, PageNotFound.title, "Check the address and try again.")
        return JSONResponse(
            {
                "error": "not_found" if exc.status_code == 404 else "invalid_request",
                "error_description": str(exc.detail),
            },
            status_code=exc.status_code,
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", path=request.url.path)
        if "text/html" in request.headers.get("accept", ""):
            return _page(request, 500, "Sorry, there is a problem with the service", "Try again later.")
        return JSONResponse(
            {"error": "server_error", "error_description": "internal error"},
            status_code=500,
            headers={"Cache-Control": "no-store"},
        )
