"""`broker demo`: seed two demo services and an account, then serve the broker and the demo services.

The two demo services listen on one port under two host names, localhost and 127.0.0.1: to a browser
they are two sites (each its own cookies), and to the broker two pairwise sectors (each its own
``sub`` for the same person). Signing in at one signs you in at the other without a password."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import typer
import uvicorn
from sqlalchemy import select
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from broker.app import build_services, create_app, govuk_frontend
from broker.config import Settings
from broker.demo.identity import banner, seed_identity
from broker.demo.rp import create_rp_app
from broker.deps import Services, utc_now
from broker.hardening import DEMO_CLIENT_IDS
from broker.logs import configure_logging
from broker.oidc.clients import NewClient, RelyingServices
from broker.policy.claims import CORE_IDENTITY, VOCAB
from broker.store.db import transaction
from broker.store.models import Account, Client
from broker.store.unit import unit_of_work

DEMO_CLIENT_ID = DEMO_CLIENT_IDS[0]
DEMO_CLAIMS = ["email", "phone_number", CORE_IDENTITY, VOCAB + "address", VOCAB + "passport"]
DEMO_EMAIL = "demo@example.org"
LOG_FILE = "demo.log"
LOOPBACK_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class DemoService:
    client_id: str
    name: str
    url: str  # scheme, host and port

    def registration(self) -> NewClient:
        return NewClient(
            client_id=self.client_id,
            name=self.name,
            redirect_uris=[f"{self.url}/callback"],
            post_logout_redirect_uris=[f"{self.url}/signed-out"],
            backchannel_logout_uri=f"{self.url}/backchannel-logout",
            claims=DEMO_CLAIMS,
        )


def demo_services(rp_url: str) -> tuple[DemoService, DemoService]:
    """The demo service at ``rp_url`` and its twin at the same port under the other loopback name."""
    scheme, _, rest = rp_url.partition("://")
    host, _, port = rest.partition(":")
    twin = LOOPBACK_NAMES[1] if host == LOOPBACK_NAMES[0] else LOOPBACK_NAMES[0]
    return (
        DemoService(DEMO_CLIENT_IDS[0], "Demo service", rp_url),
        DemoService(DEMO_CLIENT_IDS[1], "Second demo service", f"{scheme}://{twin}:{port}"),
    )


def _remember(path: Path, make: dict[str, str]) -> dict[str, str]:
    """Values generated on the first run and kept (mode 0600) for the next, so sign-in details stay the same."""
    if path.exists():
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(make, out)
    return make


def _register_or_update(registry: RelyingServices, service: DemoService, secret: str | None) -> str:
    """The service registered at its address today, through the console's rules; returns its secret.
    A restart on other ports moves its addresses (the sector, its host, stays). Its secret is stored
    only as a hash, so a service whose secret was lost (var/demo.json removed) is registered afresh."""
    client = registry.db.get(Client, service.client_id)
    if client is not None and not secret:
        with unit_of_work(registry.db):
            registry.db.delete(client)
        client = None
    new = service.registration()
    if client is None:
        _, created = registry.register(new, None)
        return created or ""
    if (client.redirect_uris, client.post_logout_redirect_uris, client.backchannel_logout_uri) != (
        new.redirect_uris,
        new.post_logout_redirect_uris,
        new.backchannel_logout_uri,
    ):
        registry.change(service.client_id, new, "operator")
    if client.claims != DEMO_CLAIMS:  # a demo made by an older version learns the new claims
        with unit_of_work(registry.db):
            client.claims = DEMO_CLAIMS
    assert secret is not None
    return secret


def seed(services: Services, rp_url: str, var: Path) -> dict[str, str]:
    """Register (or move) the two demo services for ``rp_url``, and the demo account and identity."""
    path = var / "demo.json"
    details = _remember(
        path, {"password": secrets.token_urlsafe(12), "session_secret": secrets.token_urlsafe(32)}
    )
    with services.session_factory() as db:
        registry = RelyingServices(
            db,
            utc_now,
            allow_private_outbound=services.settings.outbound_allows_private,
            operator_approves=True,  # the demo's services are in force at once, as in development
        )
        for service in demo_services(rp_url):
            key = f"client_secret:{service.client_id}"
            if service.client_id == DEMO_CLIENT_ID and "client_secret" in details:  # an older demo's
                details.setdefault(key, details.pop("client_secret"))
            details[key] = _register_or_update(registry, service, details.get(key))
    path.write_text(json.dumps(details))
    with transaction(services.session_factory) as db:
        seed_identity(db, utc_now())
        if db.scalars(select(Account).where(Account.email == DEMO_EMAIL)).first() is None:
            from broker.accounts.service import AccountService

            AccountService(db, services.passwords).create(
                DEMO_EMAIL, details["password"], verified=True, now=utc_now()
            )
    return details


class ByHost:
    """One listener, two demo services: each request goes to the service named by its Host."""

    def __init__(self, apps: Mapping[str, ASGIApp], default: ASGIApp) -> None:
        self.apps, self.default = apps, default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = Headers(scope=scope).get("host", "") if scope["type"] == "http" else ""
        await self.apps.get(host.rsplit(":", 1)[0].lower(), self.default)(scope, receive, send)


def instructions(issuer: str, first: DemoService, second: DemoService, password: str, log: str) -> str:
    return (
        "\n  The broker and two demo services are running. Press Ctrl+C to stop them.\n\n"
        f"  1. Open {first.url} and press Sign in.\n"
        f"       Email address:  {DEMO_EMAIL}\n"
        f"       Password:       {password}\n"
        f"       Security code:  read it in the broker's outbox, {issuer}/dev/outbox\n"
        f"                       (in development, emails and text messages go there)\n"
        f"  2. Then open {second.url} and press Sign in: single sign-on,\n"
        "     no password this time, and a different `sub` for the same person.\n\n"
        f"  Broker:  {issuer}     Guide for services: {first.url}/integrating\n"
        f"  Logs:    {log}\n\n" + banner()
    )


def run_demo(settings: Settings, *, port: int, rp_port: int, verbose: bool = False) -> None:
    if "BROKER_ISSUER" not in os.environ:
        settings = settings.model_copy(update={"issuer": f"http://localhost:{port}"})
    var = Path("var")
    var.mkdir(exist_ok=True)
    with ExitStack() as stack:
        log: TextIO = sys.stderr if verbose else stack.enter_context((var / LOG_FILE).open("a"))
        configure_logging(settings, log)
        services = build_services(settings)
        first, second = demo_services(f"http://{LOOPBACK_NAMES[0]}:{rp_port}")
        details = seed(services, first.url, var)
        broker_app = create_app(settings, services)
        rp_apps = {
            urlhost(service.url): create_rp_app(
                issuer=settings.issuer,
                client_id=service.client_id,
                client_secret=details[f"client_secret:{service.client_id}"],
                redirect_uri=f"{service.url}/callback",
                post_logout_redirect_uri=f"{service.url}/signed-out",
                session_secret=details["session_secret"],
                name=service.name,
                other=(other.name, other.url),
                frontend=govuk_frontend(),
            )
            for service, other in ((first, second), (second, first))
        }
        typer.echo(
            instructions(
                settings.issuer, first, second, details["password"], "here" if verbose else str(var / LOG_FILE)
            )
        )

        async def serve_both() -> None:
            rp = ByHost(rp_apps, rp_apps[urlhost(first.url)])
            servers = [
                uvicorn.Server(uvicorn.Config(broker_app, host="127.0.0.1", port=port, log_config=None)),
                uvicorn.Server(
                    uvicorn.Config(rp, host="127.0.0.1", port=rp_port, log_config=None, lifespan="off")
                ),
            ]
            await asyncio.gather(*(s.serve() for s in servers))

        asyncio.run(serve_both())


def urlhost(url: str) -> str:
    return url.partition("://")[2].rsplit(":", 1)[0]
