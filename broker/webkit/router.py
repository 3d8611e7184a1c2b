"""The router every page module uses: form text is bounded (``broker.webkit.forms``), forms carry an
anti-forgery token, and each route gets the session that ``broker.webkit.access.PAGES`` says it needs
before it runs."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from broker.webkit.access import check_session
from broker.webkit.csrf import check_csrf
from broker.webkit.forms import check_form


def page_router(tag: str = "pages") -> APIRouter:
    # The form is checked first: the anti-forgery check compares the text it finds there.
    dependencies = [Depends(check_form), Depends(check_csrf), Depends(check_session)]
    return APIRouter(tags=[tag], include_in_schema=False, dependencies=dependencies)
