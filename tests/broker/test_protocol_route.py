"""Protocol endpoints skip FastAPI's per-request parameter and dependency handling (ProtocolRoute), so
one that declares a dependency or a parameter must be refused when the route is made: silently
ignored, a dependency such as a CSRF check would never run."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.testclient import TestClient

from broker.deps import ProtocolRoute


def checked() -> None:
    raise AssertionError("a protocol route never runs dependencies")


def test_a_protocol_endpoint_takes_the_request_and_nothing_else():
    router = APIRouter(route_class=ProtocolRoute)

    @router.post("/ok")
    async def ok(request: Request) -> Response:
        return Response()

    assert [route.path for route in router.routes] == ["/ok"]


def test_a_protocol_endpoint_with_a_dependency_is_refused():
    router = APIRouter(route_class=ProtocolRoute)
    with pytest.raises(TypeError, match="/with-dependency"):

        @router.post("/with-dependency", dependencies=[Depends(checked)])
        async def with_dependency(request: Request) -> Response:
            return Response()


def test_a_protocol_router_with_a_dependency_is_refused():
    router = APIRouter(route_class=ProtocolRoute, dependencies=[Depends(checked)])
    with pytest.raises(TypeError, match="/guarded"):

        @router.post("/guarded")
        async def guarded(request: Request) -> Response:
            return Response()


def test_a_protocol_endpoint_with_a_parameter_or_a_plain_def_is_refused():
    router = APIRouter(route_class=ProtocolRoute)
    with pytest.raises(TypeError, match="/parameter"):

        @router.get("/parameter")
        async def parameter(request: Request, code: str) -> Response:
            return Response()

    with pytest.raises(TypeError, match="/plain"):

        @router.get("/plain")
        def plain(request: Request) -> Response:
            return Response()


def test_a_protocol_router_included_with_a_dependency_fails_instead_of_skipping_it():
    router = APIRouter(route_class=ProtocolRoute)

    @router.post("/included")
    async def included(request: Request) -> Response:
        return Response()

    app = FastAPI()
    app.include_router(router, dependencies=[Depends(checked)])
    with pytest.raises(TypeError, match="/included"), TestClient(app) as client:
        client.post("/included")
