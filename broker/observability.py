"""Request IDs in every log line, and Prometheus metrics on a listener of their own.

``/metrics`` is never served on the public listener: ``broker serve --metrics-port`` serves
:func:`metrics_app` on another port, bound to the loopback interface unless told otherwise
(``--metrics-host``), for Prometheus to scrape from inside the private network (docs/operating.md).
"""

from __future__ import annotations

import re
import secrets
import time

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker.deps import Services
from broker.observability_metrics import Metrics
from broker.store.models import AuditEvent, BackchannelLogout, OutboxMessage, ReleaseRecord

log = structlog.get_logger("broker.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def route_of(scope: Scope) -> str:
    """The matched route's template (/sign-in/{interaction_id}), never the raw path (ids are secrets).
    The router records the route in the scope as it dispatches."""
    route = scope.get("route")
    return str(getattr(route, "path", None) or getattr(route, "path_format", None) or "unmatched")


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if REQUEST_ID.match(incoming) else secrets.token_hex(8)
        structlog.contextvars.bind_contextvars(request_id=request_id, method=scope["method"])
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = route_of(scope)
            self.metrics.latency.labels(route, scope["method"]).observe(elapsed)
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            # The route template, never the path or query (they carry codes and ids).
            log.info("request", route=route, status=status, ms=round(elapsed * 1000, 1))
            structlog.contextvars.clear_contextvars()


def metrics_app(services: Services) -> Starlette:
    """The metrics listener's application: ``GET /metrics`` and nothing else."""

    async def metrics(_request: Request) -> Response:
        return Response(await run_in_threadpool(exposition, services), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/metrics", metrics, methods=["GET"])])


def exposition(services: Services) -> bytes:
    """Every metric in Prometheus's text format; the gauges read from the database at this moment."""
    registry = services.metrics
    with services.session_factory() as db:
        messages = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
        registry.outbox.labels("message").set(
            db.scalar(messages.where(OutboxMessage.failed_at.is_(None))) or 0
        )
        registry.outbox_failed.labels("message").set(
            db.scalar(messages.where(OutboxMessage.failed_at.is_not(None))) or 0
        )
        registry.outbox.labels("backchannel_logout").set(
            db.scalar(
                select(func.count())
                .select_from(BackchannelLogout)
                .where(BackchannelLogout.delivered_at.is_(None), BackchannelLogout.gave_up_at.is_(None))
            )
            or 0
        )
        for action, count in db.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)):
            registry.events.labels(action).set(count)
        releases = select(ReleaseRecord.endpoint, func.count()).group_by(ReleaseRecord.endpoint)
        for endpoint, count in db.execute(releases):
            registry.releases.labels(endpoint).set(count)
    return generate_latest(registry.registry)
