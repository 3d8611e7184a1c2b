"""The pages every footer links to: the accessibility statement, the privacy notice and cookies.

Each is a template per language (``statements/<page>.<language>.html``: long text reads better, and is
easier to check, as a whole page than as a hundred catalogue entries), filled with the organisation's
name, contact and dates from configuration (``BROKER_ORGANISATION_NAME`` and the others, docs/operating.md).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from broker.accounts.interactions import browser_cookie
from broker.accounts.sessions import session_cookie
from broker.deps import ServicesDep
from broker.web.i18n import COOKIE as LANGUAGE_COOKIE
from broker.web.i18n import current_language
from broker.webkit.pages import render
from broker.webkit.router import page_router

router = page_router()


def _statement(request: Request, services: ServicesDep, page: str) -> Response:
    settings = services.settings
    context = {
        "prepared": settings.accessibility_prepared,
        "reviewed": settings.accessibility_reviewed,
        "updated": settings.privacy_updated,
        "session_cookie": session_cookie(settings),
        "browser_cookie": browser_cookie(settings),
        "language_cookie": LANGUAGE_COOKIE,
        "session_hours": settings.session_max_ttl // 3600,
    }
    return render(services, request, f"statements/{page}.{current_language()}.html", context)


@router.get("/accessibility")
def accessibility(request: Request, services: ServicesDep) -> Response:
    return _statement(request, services, "accessibility")


@router.get("/privacy")
def privacy(request: Request, services: ServicesDep) -> Response:
    return _statement(request, services, "privacy")


@router.get("/cookies")
def cookies(request: Request, services: ServicesDep) -> Response:
    return _statement(request, services, "cookies")
