"""`broker keys list | rotate | retire KID`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True)


def _service():  # type: ignore[no-untyped-def]
    from broker.config import load_settings
    from broker.store.db import make_engine
    from broker.store.migrate import is_empty, upgrade
    from broker.store.signing_keys import build_key_service

    settings = load_settings()
    engine = make_engine(settings.database_url)
    if is_empty(engine):
        upgrade(engine)
    return build_key_service(settings, engine=engine)


@app.command("list")
def list_keys(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List signing keys (never their private halves)."""
    keys = _service().list_keys()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "kid": k.kid,
                        "alg": k.alg,
                        "state": k.state,
                        "created_at": k.created_at.isoformat(),
                        "retired_at": k.retired_at.isoformat() if k.retired_at else None,
                    }
                    for k in keys
                ]
            )
        )
        return
    for k in keys:
        typer.echo(f"{k.state:8} {k.alg:6} {k.kid}  created {k.created_at:%Y-%m-%d %H:%M}")


@app.command()
def rotate(
    alg: Annotated[str | None, typer.Option(help="ES256 or RS256; default both.")] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Emergencies only: rotate even when the next key is younger than the JWKS cache "
            "lifetime (relying services holding an older copy will refuse tokens until they refetch).",
        ),
    ] = False,
) -> None:
    """Promote next to current, retire current, publish a new next."""
    from keys.errors import RotationRefused

    service = _service()
    service.ensure_keys()
    try:
        service.rotate(alg, force=force)
    except RotationRefused as exc:
        typer.echo(
            f"broker: not rotated: {exc}. Rotate again then, or with --force in an emergency.", err=True
        )
        raise typer.Exit(1) from None
    typer.echo("rotated")


@app.command()
def retire(kid: str) -> None:
    """Retire a key now (a retired current key is replaced at once)."""
    if not _service().retire(kid):
        typer.echo(f"broker: no key {kid}", err=True)
        raise typer.Exit(1)
    typer.echo(f"retired {kid}")
