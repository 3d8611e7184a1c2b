"""create_app(settings): the only wiring. Nothing is built at import time."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError

from broker.accounts.passwords import PasswordService
from broker.admin import clients as admin_clients
from broker.admin import evaluate as admin_evaluate
from broker.admin import pages as admin_pages
from broker.admin import staff as admin_staff
from broker.audit.checkpoints import Checkpoints
from broker.audit.log import ADDRESS_KEY, CHAIN_KEY
from broker.audit.worker import AuditSealer
from broker.config import Settings, SettingsError
from broker.deps import Services
from broker.errors import install_error_handlers
from broker.hardening import HardeningMiddleware, check_production
from broker.notify.outbox import TEMPLATES as TEMPLATES_TO_SEND
from broker.notify.sender import GovUkNotify, OutboxSender
from broker.observability import ObservabilityMiddleware
from broker.oidc import authorize, discovery, introspection, jwks, revocation, token, userinfo
from broker.oidc.backchannel import BackchannelSender
from broker.oidc.client_keys import ClientKeyResolver
from broker.oidc.replay import make_replay_cache
from broker.outbound.check import check_at_startup
from broker.outbound.proxy import proxy_from_environment
from broker.policy.endings import AgreementEndingsWorker
from broker.store.catalog import CatalogListener
from broker.store.db import make_engine, make_sessionmaker
from broker.store.migrate import is_empty, upgrade
from broker.store.signing_keys import build_key_service
from broker.web import (
    account,
    activity,
    backup_method,
    brand,
    consent,
    dev,
    health,
    home,
    i18n,
    identity,
    logout,
    lost_factor,
    passkeys,
    recovery,
    security_settings,
    signin,
    signin_backup,
    signup,
    statements,
    vouching,
    your_data,
)
from broker.web import register as register_pages
from broker.web import services as service_pages
from broker.web.i18n import LanguageMiddleware
from broker.webkit.access import UndeclaredPage, undeclared_pages
from keys import KeyringSigner

TEMPLATES = Path(__file__).parent / "web" / "templates"
STATIC = Path(__file__).parent / "web" / "static"
GOVUK_DIST = Path("node_modules") / "govuk-frontend" / "dist" / "govuk"


def govuk_frontend() -> Path | None:
    """GOV.UK Frontend from npm: beside the source tree (development), or in the working directory (the
    container image installs the package into site-packages and node_modules into /app)."""
    for root in (Path(__file__).resolve().parents[1], Path.cwd()):
        if (root / GOVUK_DIST).is_dir():
            return root / GOVUK_DIST
    return None


def _templates(settings: Settings) -> Jinja2Templates:
    templates = brand.branded(Jinja2Templates(directory=str(TEMPLATES)), settings)
    i18n.install(templates.env)
    return templates


def build_services(settings: Settings) -> Services:
    engine = make_engine(settings.database_url)
    try:
        if settings.database_url.startswith("sqlite") and is_empty(engine):
            upgrade(engine)  # `broker serve` on an empty directory just works
        with make_sessionmaker(engine)() as db:
            check_production(settings, db)
        key_service = build_key_service(settings, engine=engine)
        key_service.ensure_keys()
    except OperationalError as exc:  # one line for the operator, without the password
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        raise SettingsError(f"cannot use the database in BROKER_DATABASE_URL ({where}): {reason}") from None
    proxy = proxy_from_environment(os.environ)
    return Services(
        settings=settings,
        engine=engine,
        session_factory=make_sessionmaker(
            engine, {ADDRESS_KEY: key_service.audit_address_key(), CHAIN_KEY: key_service.audit_chain_key()}
        ),
        key_service=key_service,
        signer=KeyringSigner(key_service),
        passwords=PasswordService(),
        templates=_templates(settings),
        replay=make_replay_cache(settings.redis_url),
        client_keys=ClientKeyResolver(allow_private_outbound=settings.outbound_allows_private, proxy=proxy),
        proxy=proxy,
    )


# Every module with routes, in the order they are matched.
ROUTED = (
    discovery,
    jwks,
    authorize,
    token,
    userinfo,
    revocation,
    introspection,
    logout,
    home,
    statements,
    signin,
    signup,
    passkeys,
    recovery,
    lost_factor,
    signin_backup,
    account,
    security_settings,
    backup_method,
    consent,
    identity,
    vouching,
    admin_clients,
    admin_pages,
    admin_staff,
    admin_evaluate,
    service_pages,
    register_pages,
    your_data,
    activity,
    dev,
    health,
    brand,
    )


def check_notify_templates(settings: Settings) -> None:
    missing = sorted(set(TEMPLATES_TO_SEND) - set(settings.notify_templates))
    if settings.notify_api_key and missing:
        raise SettingsError(
            f"invalid setting BROKER_NOTIFY_TEMPLATES: no Notify template id for {', '.join(missing)}"
        )


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    if not settings.issuer_is_https:
        # Authlib refuses plain http unless told; only development and test issuers are http.
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    check_notify_templates(settings)
    services = services or build_services(settings)
    sender = BackchannelSender(
        services.session_factory,
        services.signer,
        settings.issuer,
        services.clock,
        allow_private_outbound=settings.outbound_allows_private,
        proxy=services.proxy,
        metrics=services.metrics,
    )
    outbox = (
        OutboxSender(
            services.session_factory,
            GovUkNotify(settings.notify_api_key, settings.notify_base_url, settings.notify_templates),
            services.clock,
        )
        if settings.notify_api_key
        else None
    )

    catalog = CatalogListener(services.engine, services.catalog)
    endings = AgreementEndingsWorker(services.session_factory, services.clock)
    sealer = AuditSealer(
        services.session_factory,
        services.key_service.audit_chain_key(),
        Checkpoints(settings.audit_checkpoint_file, services.signer, settings.issuer),
        services.clock,
        checkpoint_every=timedelta(seconds=settings.audit_checkpoint_seconds),
        head_gauge=services.metrics.audit_head,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Services whose URIs lead where the broker will not call are named now, not at the first failure.
        check_at_startup(services.session_factory, allow_private=settings.outbound_allows_private)
        catalog.start()
        sender.start()
        sealer.start()
        endings.start()
        if outbox:
            outbox.start()
        try:
            yield
        finally:
            sealer.stop()
            endings.stop()
            sender.stop()
            if outbox:
                outbox.stop()
            catalog.stop()
            services.engine.dispose()

    app = FastAPI(title=settings.service_name, version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.services = services
    app.state.templates = services.templates
    app.state.backchannel = sender
    app.state.audit_sealer = sealer
    app.state.agreement_endings = endings
    install_error_handlers(app)
    app.add_middleware(HardeningMiddleware, settings=settings)
    app.add_middleware(LanguageMiddleware, secure=settings.issuer_is_https)
    app.add_middleware(ObservabilityMiddleware, metrics=services.metrics)
    if missing := undeclared_pages(module.router for module in ROUTED):
        raise UndeclaredPage(f"declare the session these pages need in broker.webkit.access.PAGES: {missing}")
    for module in ROUTED:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    frontend = govuk_frontend()
    if frontend is not None:
        app.mount("/govuk", StaticFiles(directory=frontend), name="govuk")
        app.mount("/assets", StaticFiles(directory=frontend / "assets"), name="assets")
    return app
