"""`broker demo`: seed a demo service and account, then serve the broker and the demo service."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from pathlib import Path

import typer
import uvicorn
from sqlalchemy import select

from broker.app import build_services, create_app
from broker.config import Settings
from broker.demo.identity import banner, seed_identity
from broker.demo.rp import create_rp_app
from broker.deps import Services, utc_now
from broker.logs import configure_logging
from broker.oidc.clients import NewClient, register_client
from broker.policy.claims import CORE_IDENTITY, VOCAB
from broker.store.db import transaction
from broker.store.models import Account, Client

DEMO_CLIENT_ID = "demo-service"
DEMO_CLAIMS = ["email", "phone_number", CORE_IDENTITY, VOCAB + "address", VOCAB + "passport"]
DEMO_EMAIL = "demo@example.org"


def _remember(path: Path, make: dict[str, str]) -> dict[str, str]:
    """Values generated on the first run and kept (mode 0600) for the next, so sign-in details stay the same."""
    if path.exists():
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(make, out)
    return make


def seed(services: Services, rp_url: str, var: Path) -> dict[str, str]:
    details = _remember(
        var / "demo.json",
        {
            "password": secrets.token_urlsafe(12),
            "session_secret": secrets.token_urlsafe(32),
        },
    )
    with transaction(services.session_factory) as db:
        client = db.get(Client, DEMO_CLIENT_ID)
        if client is None or "client_secret" not in details:
            if client is not None:
                db.delete(client)
                db.flush()
            _, secret = register_client(
                db,
                NewClient(
                    client_id=DEMO_CLIENT_ID,
                    name="Demo service",
                    redirect_uris=[f"{rp_url}/callback"],
                    post_logout_redirect_uris=[f"{rp_url}/"],
                    backchannel_logout_uri=f"{rp_url}/backchannel-logout",
                    claims=DEMO_CLAIMS,
                ),
                utc_now(),
                allow_private_outbound=services.settings.outbound_allows_private, operator_approves=True,
            )
            details["client_secret"] = secret or ""
            (var / "demo.json").write_text(json.dumps(details))
        else:
            client.claims = DEMO_CLAIMS  # a demo made by an older version learns the new claims
        seed_identity(db, utc_now())
        if db.scalars(select(Account).where(Account.email == DEMO_EMAIL)).first() is None:
            from broker.accounts.service import AccountService

            AccountService(db, services.passwords).create(
                DEMO_EMAIL, details["password"], verified=True, now=utc_now()
            )
    return details


def run_demo(settings: Settings, *, port: int, rp_port: int) -> None:
    if "BROKER_ISSUER" not in os.environ:
        settings = settings.model_copy(update={"issuer": f"http://localhost:{port}"})
    configure_logging(settings)
    services = build_services(settings)
    rp_url = f"http://localhost:{rp_port}"
    details = seed(services, rp_url, Path("var"))
    broker_app = create_app(settings, services)
    rp_app = create_rp_app(
        issuer=settings.issuer,
        client_id=DEMO_CLIENT_ID,
        client_secret=details["client_secret"],
        redirect_uri=f"{rp_url}/callback",
        post_logout_redirect_uri=f"{rp_url}/",
        session_secret=details["session_secret"],
    )
    typer.echo(
        f"\n  Broker:        {settings.issuer}\n"
        f"  Demo service:  {rp_url}   <- open this and press Sign in\n"
        f"  Sign in as:    {DEMO_EMAIL}\n"
        f"  Password:      {details['password']}\n"
        f"  Security code: shown at {settings.issuer}/dev/outbox\n\n" + banner()
    )

    async def serve_both() -> None:
        servers = [
            uvicorn.Server(uvicorn.Config(broker_app, host="127.0.0.1", port=port, log_config=None)),
            uvicorn.Server(uvicorn.Config(rp_app, host="127.0.0.1", port=rp_port, log_config=None)),
        ]
        await asyncio.gather(*(s.serve() for s in servers))

    asyncio.run(serve_both())
