"""create_app(settings): the only wiring. Nothing is built at import time."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from broker import observability
from broker.accounts.passwords import PasswordService
from broker.admin import clients as admin_clients
from broker.admin import pages as admin_pages
from broker.config import Settings, SettingsError
from broker.deps import Services
from broker.errors import install_error_handlers
from broker.hardening import HardeningMiddleware, check_production
from broker.notify.outbox import TEMPLATES as TEMPLATES_TO_SEND
from broker.notify.sender import GovUkNotify, OutboxSender
from broker.observability import ObservabilityMiddleware
from broker.oidc import authorize, discovery, introspection, jwks, logout, revocation, token, userinfo
from broker.oidc.backchannel import BackchannelSender
from broker.oidc.client_keys import ClientKeyResolver
from broker.oidc.replay import make_replay_cache
from broker.store.db import make_engine, make_sessionmaker
from broker.store.migrate import is_empty, upgrade
from broker.web import (
    account,
    activity,
    consent,
    dev,
    health,
    identity,
    lost_factor,
    passkeys,
    recovery,
    signin,
    signup,
    vouching,
    your_data,
)
from broker.web import services as service_pages
from keys import KeyringSigner, build_key_service

TEMPLATES = Path(__file__).parent / "web" / "templates"
STATIC = Path(__file__).parent / "web" / "static"
GOVUK_FRONTEND = Path(__file__).resolve().parents[1] / "node_modules" / "govuk-frontend" / "dist" / "govuk"


def branded(templates: Jinja2Templates, settings: Settings) -> Jinja2Templates:
    """The operator's name and footer links on every page (BROKER_SERVICE_NAME, BROKER_FOOTER_LINKS)."""
    templates.env.globals["service_name"] = settings.service_name
    templates.env.globals["footer_links"] = settings.footer_links
    return templates


def build_services(settings: Settings) -> Services:
    engine = make_engine(settings.database_url)
    if settings.database_url.startswith("sqlite") and is_empty(engine):
        upgrade(engine)  # `broker serve` on an empty directory just works
    with make_sessionmaker(engine)() as db:
        check_production(settings, db)
    key_service = build_key_service(settings, engine=engine)
    key_service.ensure_keys()
    return Services(
        settings=settings,
        engine=engine,
        session_factory=make_sessionmaker(engine),
        key_service=key_service,
        signer=KeyringSigner(key_service),
        passwords=PasswordService(),
        templates=branded(Jinja2Templates(directory=str(TEMPLATES)), settings),
        replay=make_replay_cache(settings.redis_url),
        client_keys=ClientKeyResolver(),
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
    sender = BackchannelSender(services.session_factory, services.signer, settings.issuer, services.clock)
    outbox = (
        OutboxSender(
            services.session_factory,
            GovUkNotify(settings.notify_api_key, settings.notify_base_url, settings.notify_templates),
            services.clock,
        )
        if settings.notify_api_key
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sender.start()
        if outbox:
            outbox.start()
        try:
            yield
        finally:
            sender.stop()
            if outbox:
                outbox.stop()
            services.engine.dispose()

    app = FastAPI(title="Identity broker", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.services = services
    app.state.templates = services.templates
    app.state.backchannel = sender
    install_error_handlers(app)
    app.add_middleware(HardeningMiddleware, settings=settings)
    app.add_middleware(ObservabilityMiddleware, metrics=services.metrics)
    for module in (
        discovery,
        jwks,
        authorize,
        token,
        userinfo,
        revocation,
        introspection,
        logout,
        signin,
        signup,
        passkeys,
        recovery,
        lost_factor,
        account,
        consent,
        identity,
        vouching,
        admin_clients,
        admin_pages,
        service_pages,
        your_data,
        activity,
        dev,
        health,
        observability,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if GOVUK_FRONTEND.is_dir():
        app.mount("/govuk", StaticFiles(directory=GOVUK_FRONTEND), name="govuk")
        app.mount("/assets", StaticFiles(directory=GOVUK_FRONTEND / "assets"), name="assets")
    return app
