"""Structured logs: JSON in production, readable in development. Never personal data or secrets."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

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


def configure_logging(settings: Settings) -> None:
    json_logs = settings.log_format == "json" or (
        settings.log_format == "auto" and settings.env == "production"
    )
    renderer = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer(colors=False)
    )
    level = getattr(logging, settings.log_level.upper())
    logging.basicConfig(level=level, stream=sys.stderr, format="%(message)s")
    # Access logs carry query strings (codes, state): keep them out.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
