"""The domain error family, and the one place that turns errors into HTTP responses.

Services raise these deep down; only :func:`install_error_handlers` decides what the person or the
relying service sees. A 5xx never shows its details.
"""

from __future__ import annotations

from html import escape
from typing import ClassVar, Literal

import structlog
from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response

from broker.language import COOKIE, DEFAULT, ENGLISH_ONLY, _, choose_language, language
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
    """The page says what to do in the person's words; why the request was refused (often Authlib's
    own description, in English, naming parameters) goes to the log, never onto the page."""

    title = N_("The service you came from sent an address we do not trust")
    advice = N_(
        "Go back to the service you were using and try again. If this keeps happening, contact that service."
    )

    def __init__(self, detail: str = "") -> None:
        super().__init__(self.advice)
        self.detail = detail


class InteractionExpired(PageError):
    title = N_("Your sign-in took too long")
    code = "interaction_expired"


class PageNotFound(PageError):
    status = 404
    title = N_("Page not found")
    code = "not_found"


# The words of the pages for an address that does not exist and for our own failure.
NOT_FOUND_ADVICE = N_(
    "If you typed the web address, check it is correct. If you pasted it, check you copied all of it."
)
SERVER_ERROR_TITLE = N_("Sorry, there is a problem with the service")
SERVER_ERROR_ADVICE = N_("Try again later.")


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


class ProtocolError(BrokerError):
    """An error the OAuth 2.0 and OpenID Connect specifications define, for a relying service: one
    named class per ``error`` code (broker/oidc/errors.py). Rendered only here: as a token endpoint's
    JSON (RFC 6749 §5.2), as a bearer challenge (``render = "bearer"``, RFC 6750 §3), or as the
    parameters of a redirect to the client (:func:`authorize_error_params`, RFC 6749 §4.1.2.1).
    Protocol errors stay in English."""

    # error_description is optional (RFC 6749 §5.2): there is none unless one is given.
    title = ""

    def __init__(
        self,
        description: str = "",
        *,
        status: int | None = None,
        state: str | None = None,
        challenge: str | None = None,
        error: str | None = None,
        **values: object,
    ) -> None:
        super().__init__(description, **values)
        self.error = self.code if error is None else error  # the code this instance is sent with
        self.http_status = status or self.status
        self.state = state  # echoed in the body where the request carried one (RFC 6749 §5.2)
        self.challenge = challenge  # the WWW-Authenticate scheme of a JSON error ("Basic"), if any
        self.redirect_uri: str | None = None  # where Authlib would send it, once the client is trusted


def _page(
    request: Request, status: int, title: str, description: str, fields: dict[str, str] | None = None
) -> Response:
    """The error page; ``fields`` (field id → message) are listed in a GOV.UK error summary."""
    templates = getattr(request.app.state, "templates", None)
    if templates is None:  # during very early start-up only
        return HTMLResponse(f"<h1>{escape(title)}</h1><p>{escape(description)}</p>", status_code=status)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"title": title, "description": description, "errors": fields or {}},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def error_response(request: Request, error: BrokerError) -> Response:
    if isinstance(error, ProtocolError):
        return protocol_response(error)
    if isinstance(error, SignInFirst):
        if request.headers.get("content-type", "").startswith("application/json"):  # a page's script
            body = {"error": "login_required", "location": error.location}
            return JSONResponse(body, status_code=401, headers={"Cache-Control": "no-store"})
        return Response(status_code=303, headers={"Location": error.location, "Cache-Control": "no-store"})
    if error.render == "page":
        if isinstance(error, UntrustedRedirectUri) and error.detail:
            log.info("authorization request refused before its redirect URI was trusted", detail=error.detail)
        fields = getattr(error, "fields", None)
        return _page(request, error.status, _(error.title), _(error.message, **error.values), fields)
    # A page script's error is in the person's language.
    description = _(error.message, **error.values) if error.for_people else error.description
    body = {"error": error.code, "error_description": description}
    return JSONResponse(body, status_code=error.status, headers={"Cache-Control": "no-store"})


def protocol_body(error: ProtocolError) -> dict[str, str]:
    body = {"error": error.error}
    if error.description:
        body["error_description"] = error.description
    if error.state:
        body["state"] = error.state
    return body


def challenge(scheme: str, error: ProtocolError) -> str:
    """A ``WWW-Authenticate`` value (RFC 6750 §3, RFC 6749 §5.2); no error code when the request
    carried no credentials at all (RFC 6750 §3.1)."""
    if not error.error:
        return scheme
    # The header's quoted strings may not hold a double quote.
    description = error.description.replace('"', "|")
    return f'{scheme} error="{error.error}", error_description="{description}"'


def protocol_response(error: ProtocolError) -> Response:
    if error.render == "bearer":
        if not error.error:
            headers = {"WWW-Authenticate": challenge("Bearer", error), "Cache-Control": "no-store"}
            return Response(status_code=error.http_status, headers=headers)
        headers = {"Cache-Control": "no-store", "WWW-Authenticate": challenge("Bearer", error)}
        return JSONResponse(protocol_body(error), status_code=error.http_status, headers=headers)
    # RFC 6749 §5.1: token endpoint responses are not cached, by HTTP/1.1 or HTTP/1.0 caches.
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}
    if error.challenge:
        headers["WWW-Authenticate"] = challenge(error.challenge, error)
    return JSONResponse(protocol_body(error), status_code=error.http_status, headers=headers)


def authorize_error_params(error: ProtocolError) -> list[tuple[str, str]]:
    """An authorization error's parameters for the client's (already trusted) redirect URI; the
    authorization response adds ``state`` and ``iss`` to them as to every response."""
    # RFC 6749 §4.1.2.1: descriptions are %x20-21 / %x23-5B / %x5D-7E, and ours may quote the request.
    description = error.description or error.error
    safe = "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "?" for c in description)
    return [("error", error.error), ("error_description", safe)]


def authlib_error(error: OAuth2Error, named: type[ProtocolError] = ProtocolError) -> ProtocolError:
    """Authlib's error as a protocol error (``named``: its class, broker/oidc/errors.py), with what
    Authlib decided for this request: its description (none where Authlib gives none), its status (401
    for a client that authenticated with a header), ``state``, the trusted redirect URI where Authlib
    knows it, and the ``WWW-Authenticate`` scheme it challenges with."""
    challenged = dict(error.get_headers()).get("WWW-Authenticate")
    made = named(
        error.description or "",
        status=int(error.status_code),
        state=error.state,
        challenge=challenged.split(" ", 1)[0] if challenged else None,
        error=str(error.error),
    )
    made.redirect_uri = error.redirect_uri
    return made


def _language_of(request: Request) -> str:
    if request.url.path.startswith(ENGLISH_ONLY):
        return DEFAULT
    ui_locales = request.query_params.get("ui_locales") if request.url.path == "/authorize" else None
    return choose_language(request.query_params.get("lang"), ui_locales, request.cookies.get(COOKIE))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BrokerError)
    async def _broker_error(request: Request, exc: BrokerError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(OAuth2Error)
    async def _oauth2_error(request: Request, exc: OAuth2Error) -> Response:
        return protocol_response(authlib_error(exc))

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
            return _page(request, 404, _(PageNotFound.title), _(NOT_FOUND_ADVICE))
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
            # This handler runs outside the language middleware (Starlette's ServerErrorMiddleware):
            # the request's language is chosen again, as that middleware chooses it.
            token = language.set(_language_of(request))
            try:
                return _page(request, 500, _(SERVER_ERROR_TITLE), _(SERVER_ERROR_ADVICE))
            finally:
                language.reset(token)
        return JSONResponse(
            {"error": "server_error", "error_description": "internal error"},
            status_code=500,
            headers={"Cache-Control": "no-store"},
        )
