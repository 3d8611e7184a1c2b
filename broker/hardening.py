"""Security headers on every response, request size limits, and the production start-up checks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker.config import Settings, SettingsError

MAX_BODY_BYTES = 64 * 1024
# The longest request target (path and query) the server reads; the application then answers what it
# will not take with the protocol's own error (broker/oidc/authorization.py, MAX_AUTHORIZE_PARAMS), never
# with the server's bare 400. Longer ones are cut off by the server (docs/operating.md).
MAX_REQUEST_TARGET_BYTES = 128 * 1024
# h11 bounds the whole request head (request line and headers), 16 KB unless told.
MAX_REQUEST_HEAD_BYTES = MAX_REQUEST_TARGET_BYTES + 32 * 1024
# httptools parses a URL with 16-bit offsets: a target of 64 KB or more fails to parse.
HTTPTOOLS_URL_LIMIT = 0xFFFF
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        # An identity service's URLs carry codes and state: never send them on as a referrer.
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if settings.issuer_is_https:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


class BodyTooLarge(Exception):
    pass


class HardeningMiddleware:
    """Pure ASGI: adds the headers, and answers 413 to bodies over the limit before any route reads them."""

    def __init__(self, app: ASGIApp, settings: Settings, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.headers = security_headers(settings)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await self._too_large(send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:  # a chunked body with no declared length
                    raise BodyTooLarge()
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                existing = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self.headers if k not in existing
                ]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        body = b'{"error":"invalid_request","error_description":"request body too large"}'
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *self.headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


DEMO_CLIENT_IDS = ("demo-service", "demo-second")  # each its own MOU reference: MOU-<first 12>
DEV_KEK_DEFAULT = "var/key-encryption-key"


def production_problems(settings: Settings, db: Session) -> list[str]:
    """Development defaults that must never reach production."""
    from broker.store.models import Client

    problems = []
    if not settings.issuer_is_https:
        problems.append("BROKER_ISSUER must be https in production")
    if str(settings.key_encryption_key_file).lstrip("./") == DEV_KEK_DEFAULT:
        problems.append(
            "BROKER_KEY_ENCRYPTION_KEY_FILE must point at a key provisioned for production, "
            "not the development default"
        )
    if any(db.get(Client, client_id) for client_id in DEMO_CLIENT_IDS):
        problems.append("a demo relying service is registered; remove it before running in production")
    return problems


def check_production(settings: Settings, db: Session) -> None:
    if settings.env != "production":
        return
    problems = production_problems(settings, db)
    if problems:
        raise SettingsError("refusing to start: " + "; ".join(problems))


class RequestTargetTooLong(Exception):
    pass


def server_options() -> dict[str, Any]:
    """The uvicorn options that let a request target of up to :data:`MAX_REQUEST_TARGET_BYTES` reach
    the application: httptools (the fast parser) taught to split a long target itself, or h11 with a
    larger head where httptools is not installed."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools is installed with uvicorn[standard]
        return {"http": "h11", "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES}

    class LongTargetHttpTools(HttpToolsProtocol):  # type: ignore[misc]
        def on_url(self, url: bytes) -> None:
            if len(self.url) + len(url) > MAX_REQUEST_TARGET_BYTES:
                raise RequestTargetTooLong()  # httptools answers a callback's error with a bare 400
            super().on_url(url)

        def on_headers_complete(self) -> None:
            target = self.url
            if len(target) < HTTPTOOLS_URL_LIMIT:
                super().on_headers_complete()
                return
            # The path alone is parsed as usual; the query, which httptools cannot place, is set on
            # the scope before the request's task first runs.
            path, _, query = target.partition(b"?")
            self.url = path
            super().on_headers_complete()
            self.url = target
            if "query_string" in self.scope:
                self.scope["query_string"] = query.partition(b"#")[0]

    return {"http": LongTargetHttpTools, "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES}
