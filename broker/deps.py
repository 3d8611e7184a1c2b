"""Every FastAPI dependency: the services, a database session per request, the clock, the OIDC context."""

from __future__ import annotations

import asyncio
import inspect
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from anyio import CapacityLimiter, to_thread
from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from broker.accounts.passwords import PasswordService
from broker.config import Settings
from broker.identity import wiring
from broker.identity.documents import IdentityCheck
from broker.identity.registry import simulated_authorities
from broker.identity.vouching import VouchingService
from broker.observability_metrics import Metrics
from broker.oidc.client_keys import ClientKeyResolver
from broker.oidc.context import OidcContext
from broker.oidc.fastapi_internals import inclusion_dependencies
from broker.oidc.replay import ReplayCache
from broker.oidc.requests import Params
from broker.outbound.proxy import OutboundProxy
from broker.store.catalog import Catalog
from keys import KeyService, Signer
from vouching.authorities import Authorities


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Everything built once at start-up (``create_app``) and shared by requests."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    key_service: KeyService
    signer: Signer
    passwords: PasswordService
    templates: Jinja2Templates
    replay: ReplayCache
    client_keys: ClientKeyResolver
    clock: Callable[[], datetime] = utc_now
    metrics: Metrics = field(default_factory=Metrics)
    # Clients and MOU versions held in memory between changes (on PostgreSQL; see catalog.py).
    catalog: Catalog = field(default_factory=Catalog)
    # The outside authorities identity proofing asks, given a database session.
    authorities: Callable[[Session], Authorities] = simulated_authorities
    # Where calls out (client keys, back-channel notices) go through: HTTPS_PROXY, read at start-up.
    proxy: OutboundProxy | None = None


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in the
# threadpool, and each hand-off to a thread and back costs more than the work itself.
async def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


async def hashing_turn(services: ServicesDep) -> AsyncIterator[None]:
    """For routes that hash a password: wait for a turn on the event loop, holding no worker thread."""
    async with services.passwords.turn():
        yield


HashingTurn = Depends(hashing_turn)


async def get_db(services: ServicesDep) -> AsyncIterator[Session]:
    """A session per request. Routes commit once, at the end; anything uncommitted is rolled back.

    The session connects on first use, inside the route's thread. Closing a session whose route
    committed only hands its connection back to the pool. On PostgreSQL a rollback is a round trip
    to the database, so it runs in the threadpool, off the event loop. On SQLite it is a local file
    operation and runs here at once: until it runs, the open transaction holds the database's one
    write lock, and under a burst every worker thread can be waiting for that lock — a rollback
    queued for a thread would then wait for them, and they for it, until the busy timeout."""
    session = services.session_factory()
    try:
        yield session
    finally:
        if session.in_transaction() and services.engine.dialect.name != "sqlite":
            await run_in_threadpool(session.close)
        else:
            session.close()


Db = Annotated[Session, Depends(get_db)]


async def get_oidc(services: ServicesDep, db: Db) -> OidcContext:
    return oidc_context(services, db)


def oidc_context(services: Services, db: Session) -> OidcContext:
    return OidcContext(
        db=db,
        settings=services.settings,
        signer=services.signer,
        clock=services.clock,
        replay=services.replay,
        client_keys=services.client_keys,
        catalog=services.catalog,
        refresh_identity=lambda account_id: vouching_service(db, services).settle(account_id),
    )


def vouching_service(db: Session, services: Services) -> VouchingService:
    """The vouching service for this request (:func:`broker.identity.wiring.vouching_service`, with its
    production guard)."""
    settings = services.settings
    return wiring.vouching_service(
        db,
        services.clock,
        services.authorities,
        env=settings.env,
        policy=settings.vouching_policy(),
        issuer=settings.issuer,
    )


def identity_check(db: Session, services: Services) -> IdentityCheck:
    """The identity check by documents for this request (:func:`broker.identity.wiring.identity_check`)."""
    settings = services.settings
    return wiring.identity_check(
        db,
        services.clock,
        services.authorities,
        services.key_service.document_key(),
        env=settings.env,
        policy=settings.vouching_policy(),
        issuer=settings.issuer,
    )


Oidc = Annotated[OidcContext, Depends(get_oidc)]

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_form(request: Request) -> Params:
    """The form body as Authlib wants it; other content types read as an empty form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method != "POST" or content_type not in FORM_TYPES:
        return Params([])
    form = await request.form()
    return Params([(k, v) for k, v in form.multi_items() if isinstance(v, str)])


async def read_query(request: Request) -> Params:
    return Params(list(request.query_params.multi_items()))


Form = Annotated[Params, Depends(read_form)]
Query = Annotated[Params, Depends(read_query)]


# A protocol endpoint's work: the request (headers, cookies, URL), its OIDC context, query and form.
ProtocolHandler = Callable[[Request, OidcContext, Params, Params], Response]


async def run_protocol(request: Request, handler: ProtocolHandler) -> Response:
    """Run a protocol endpoint (authorize, token, userinfo, introspection, revocation): read the query
    and form here, then do the work in one trip to a worker thread, with a database session opened
    and closed in that thread (what was not committed is rolled back there).

    These are the endpoints a relying service calls on every sign-in. Declared as FastAPI
    dependencies (services, session, context, query, form), the same wiring cost more CPU to solve on
    every request than most of the endpoints' own work."""
    services: Services = request.app.state.services
    query = await read_query(request)
    form = await read_form(request)
    return await to_thread.run_sync(
        _in_session, services, handler, request, query, form, limiter=_protocol_threads()
    )


# Protocol requests run on a few worker threads of their own, not on the 40 shared with the pages.
# A process runs Python on one core at a time: with many threads each waiting for the database, every
# reply from it waits again for the interpreter behind the others, and a flow took longer, and more
# CPU, the more threads took part (bench/README.md: at 16 flows at once, 4 threads did 20-30% more
# flows per second than 40). Four keep the core busy while some wait for the database. A request that
# waits on something slow holds one of them: the calls out on this path (a client's jwks_uri) time out,
# and one that failed is not made again for a while (broker/oidc/client_keys.py).
PROTOCOL_THREADS = 4
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = weakref.WeakKeyDictionary()


def _protocol_threads() -> CapacityLimiter:
    """The protocol threads' limiter, one per event loop (a limiter belongs to the loop it is used on)."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(PROTOCOL_THREADS)
    return limiter


def _in_session(
    services: Services, handler: ProtocolHandler, request: Request, query: Params, form: Params
) -> Response:
    with services.session_factory() as db:
        return handler(request, oidc_context(services, db), query, form)


class ProtocolRoute(APIRoute):
    """The route class of the protocol routers: the endpoint is called with the request and nothing
    else (it runs ``run_protocol``), so FastAPI's per-request work for parameters, dependencies and
    response models is skipped. OpenAPI still describes the route (``openapi_extra``). A protocol
    endpoint that declares a dependency or a parameter, or whose router does, is refused at start-up;
    one given dependencies by ``include_router`` or the app fails its every request. None is silently
    skipped."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        parameters = list(inspect.signature(endpoint).parameters)
        if not inspect.iscoroutinefunction(endpoint) or parameters != ["request"] or self.dependencies:
            raise TypeError(
                f"{path}: a protocol endpoint is `async def name(request: Request)` and nothing else"
            )

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # Dependencies given to include_router are known only while FastAPI builds the included
        # route's handler, through its private API (kept in one module, with a test of its own).
        if inclusion_dependencies(self):
            raise TypeError(f"{self.path}: include a protocol router without dependencies")
        return self.endpoint  # type: ignore[return-value]
