"""The router every page module uses: forms carry an anti-forgery token, and each route gets the session
that ``broker.webkit.access.PAGES`` says it needs before it runs."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from broker.webkit.access import check_session
from broker.webkit.csrf import check_csrf


def page_router(tag: str = "pages") -> APIRouter:
    return APIRouter(
        tags=[tag], include_in_schema=False, dependencies=[Depends(check_csrf), Depends(check_session)]
    )
