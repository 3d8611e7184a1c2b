"""The one place the broker reads FastAPI's private API, and why: FastAPI has no public way to ask,
while it builds an included route's handler, which dependencies ``include_router`` gave the route.

:class:`broker.deps.ProtocolRoute` skips FastAPI's dependency handling for speed, so it must refuse a
route given dependencies that way rather than silently not run them. FastAPI (0.1xx) builds each
included route's handler inside ``fastapi.routing._effective_route_context_var``, set to the route's
effective context (``original_route``, ``dependencies``). tests/broker/test_fastapi_internals.py
fails, naming the FastAPI version, when an upgrade moves it; this module then needs changing.
"""

from __future__ import annotations

from typing import Any

import fastapi
import fastapi.routing
from fastapi.routing import APIRoute

_CONTEXT = "_effective_route_context_var"


class FastAPIChanged(RuntimeError):
    """FastAPI no longer has what this module reads."""


def inclusion_dependencies(route: APIRoute) -> list[Any]:
    """The dependencies ``include_router`` gives ``route``, when called while FastAPI builds the
    handler of ``route`` as included in a router or app; an empty list otherwise."""
    variable = getattr(fastapi.routing, _CONTEXT, None)
    if variable is None:
        raise FastAPIChanged(
            f"FastAPI {fastapi.__version__} has no fastapi.routing.{_CONTEXT}: update "
            "broker/oidc/fastapi_internals.py, or protocol routes cannot refuse included dependencies"
        )
    context = variable.get()
    if context is None or getattr(context, "original_route", None) is not route:
        return []
    if not hasattr(context, "dependencies"):
        raise FastAPIChanged(
            f"FastAPI {fastapi.__version__}: the effective route context has no dependencies: update "
            "broker/oidc/fastapi_internals.py"
        )
    return list(context.dependencies)
