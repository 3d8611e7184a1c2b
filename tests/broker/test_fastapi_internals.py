"""FastAPI's private API that broker/oidc/fastapi_internals.py reads: each test fails, naming the
FastAPI version, when an upgrade changes it (then change that module, and only it)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import fastapi
import fastapi.routing
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from broker.oidc.fastapi_internals import FastAPIChanged, inclusion_dependencies

UPGRADE = f"FastAPI {fastapi.__version__} changed its private API: update broker/oidc/fastapi_internals.py"


def guard() -> None:
    return None


def other_guard() -> None:
    return None


class Recording(APIRoute):
    """Records what the adapter sees each time FastAPI builds this route's handler."""

    seen: list[list[Any]]

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        type(self).seen.append(inclusion_dependencies(self))
        return super().get_route_handler()


def _router() -> APIRouter:
    Recording.seen = []
    router = APIRouter(route_class=Recording)

    @router.get("/probe")
    async def probe() -> dict[str, str]:
        return {"ok": "yes"}

    return router


def test_the_context_fastapi_builds_included_handlers_in_still_exists():
    assert hasattr(fastapi.routing, "_effective_route_context_var"), UPGRADE


def test_a_route_used_directly_has_no_inclusion_dependencies():
    _router()
    assert Recording.seen == [[]], UPGRADE


def test_the_dependencies_include_router_gives_are_seen():
    router = _router()
    app = FastAPI()
    app.include_router(router, dependencies=[Depends(guard), Depends(other_guard)])
    with TestClient(app) as client:
        assert client.get("/probe").json() == {"ok": "yes"}
    included = [seen for seen in Recording.seen if seen]
    assert included, UPGRADE
    assert [d.dependency for d in included[-1]] == [guard, other_guard], UPGRADE


def test_a_router_included_without_dependencies_has_none():
    router = _router()
    app = FastAPI()
    app.include_router(router, prefix="/plain")
    with TestClient(app) as client:
        assert client.get("/plain/probe").status_code == 200
    assert Recording.seen and all(seen == [] for seen in Recording.seen), UPGRADE


def test_an_upgrade_that_removes_it_stops_protocol_routes_loudly(monkeypatch):
    monkeypatch.delattr(fastapi.routing, "_effective_route_context_var")
    with pytest.raises(FastAPIChanged, match=f"FastAPI {fastapi.__version__}.*fastapi_internals.py"):
        _router()


def test_only_the_adapter_uses_it():
    root = Path(__file__).resolve().parents[2] / "broker"
    users = {
        str(p.relative_to(root)) for p in root.rglob("*.py") if "_effective_route_context" in p.read_text()
    }
    assert users == {"oidc/fastapi_internals.py"}
