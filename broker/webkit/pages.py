"""Helpers every citizen page shares: rendering with an error summary, and redirects after a POST."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from broker.deps import Services
from broker.webkit.csrf import csrf_token

NO_STORE = {"Cache-Control": "no-store"}


def render(
    services: Services,
    request: Request,
    template: str,
    context: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    """A page; with ``errors`` (field id → message) it gets a GOV.UK error summary and a 400."""
    return services.templates.TemplateResponse(
        request,
        template,
        {**context, "errors": errors or {}, "csrf_token": csrf_token(request)},
        status_code=400 if errors else 200,
        headers=NO_STORE,
    )


def see_other(location: str) -> Response:
    # 303 after a POST that carried credentials, never 307 (RFC 9700 §4.12).
    return RedirectResponse(location, status_code=303, headers=NO_STORE)


def form_page(
    services: Services,
    request: Request,
    *,
    title: str,
    action: str,
    fields: list[dict[str, str]] | None = None,
    intro: list[str] | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """The common page: a heading, some words, a few fields and a Continue button."""
    context = {
        "title": title,
        "action": action,
        "fields": fields or [],
        "intro": intro or [],
        "values": values or {},
        **extra,
    }
    return render(services, request, "form.html", context, errors)
