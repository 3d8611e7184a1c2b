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

from broker.language import _
from vouching.text import N_

log = structlog.get_logger(__name__)

Rendering = Literal["page", "json", "bearer", "redirect"]


class BrokerError(Exception):
    """Base of every error a service may raise on purpose."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "invalid_request"
    render: ClassVar[Rendering] = "json"
    title: ClassVar[str] = "There is a problem"
    # A person reads the description (a page, or a page's script): it is shown in their language.
    for_people: ClassVar[bool] = False

    def __init__(self, description: str = "", **values: object) -> None:
        """``description`` may hold ``%(name)s`` placeholders filled from ``values``: ``description`` is
        the English text, and ``message`` with ``values`` is what a page translates."""
        self.message = description or self.title
        self.values = values
        self.description = self.message % values if values else self.message
        super().__init__(self.description)


# Pages a person sees (never a redirect to an untrusted place).
class PageError(BrokerError):
    render = "page"
    for_people = True


class UnknownClient(PageError):
    title = N_("The service you came from is not recognised")


class UntrustedRedirectUri(PageError):
    title = N_("The service you came from sent an address we do not trust")


class InteractionExpired(PageError):
    title = N_("Your sign-in took too long")
    code = "interaction_expired"


class PageNotFound(PageError):
    status = 404
    title = N_("Page not found")
    code = "not_found"


class SignInFirst(BrokerError):
    """Not a failure: the person must sign in, then comes back to ``location``'s ``next``."""

    status = 303
    render = "redirect"
    title = N_("Sign in first")

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
    title = N_("The access token is invalid")


class NoCredentials(BrokerError):
    """No access token at all, or another scheme than Bearer: the challenge names the scheme only
    (RFC 6750 §3.1: no error code when the request lacks authentication information)."""

    status = 401
    code = ""
    render = "bearer"
    title = N_("Send an access token as 'Authorization: Bearer <token>'")


class InsufficientScope(BrokerError):
    status = 403
    code = "insufficient_scope"
    render = "bearer"
    title = N_("The access token does not allow this")


class RateLimited(BrokerError):
    status = 429
    code = "slow_down"
    title = N_("Too many attempts")


class NotReady(BrokerError):
    status = 503
    code = "temporarily_unavailable"
    title = N_("Not ready")


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
        if request.headers.get("content-type", "").startswith("application/json"):  # a page's script
            body = {"error": "login_required", "location": error.location}
            return JSONResponse(body, status_code=401, headers={"Cache-Control": "no-store"})
        return Response(status_code=303, headers={"Location": error.location, "Cache-Control": "no-store"})
    if error.render == "page":
        return _page(request, error.status, _(error.title), _(error.message, **error.values))
    if error.render == "bearer" and not error.code:
        return Response(
            status_code=error.status, headers={"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"}
        )
    # Protocol errors stay in English; a page script's error is in the person's language.
    description = _(error.message, **error.values) if error.for_people else error.description
    body = {"error": error.code, "error_description": description}
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
