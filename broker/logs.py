"""Structured logs: JSON in production, readable in development. Never personal data or secrets."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from broker.config import Settings

# Keys whose values are dropped wherever they appear in an event.
REDACTED = {
    "password",
    "email",
    "code",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
    "secret",
    "authorization",
    "cookie",
    "logout_token",
}


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key.lower() in REDACTED:
            event[key] = "[redacted]"
    return event


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """One formatter for everything: our events and other libraries' (uvicorn, Authlib) alike, written
    to ``stream`` (standard error unless told: `broker demo` keeps its screen for what it printed)."""
    out = stream or sys.stderr
    json_logs = settings.log_format == "json" or (
        settings.log_format == "auto" and settings.env == "production"
    )
    renderer: Any = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer(colors=False)
    )
    level = getattr(logging, settings.log_level.upper())
    stamped: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*stamped, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _redact,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Access logs carry query strings (codes, state): keep them out. Authlib's debug messages carry
    # whole token responses ("Issue token {...}"): never below INFO, whatever BROKER_LOG_LEVEL says.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("authlib").setLevel(max(level, logging.INFO))
    # The Notify client logs each refusal with Notify's message, which can repeat what it was sent;
    # the outbox sender logs the status and error type instead.
    logging.getLogger("notifications_python_client").setLevel(max(level, logging.ERROR))
    # Our own events are rendered by structlog and written straight to standard error, one write a
    # line, through the same processors the formatter above gives other libraries' records. Going
    # through the standard library's loggers and handlers too cost several times as much (the access
    # log line is on every request).
    structlog.configure(
        processors=[*stamped, _redact, structlog.processors.format_exc_info, renderer],
        logger_factory=structlog.WriteLoggerFactory(file=out),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
