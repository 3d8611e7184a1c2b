"""Liveness and readiness."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from broker.deps import ServicesDep
from broker.store.db import READ_ONLY

router = APIRouter(tags=["health"])
log = structlog.get_logger(__name__)


@router.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def _passes(name: str, check: Callable[[], object]) -> bool:
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - readiness reports what is wrong, it does not raise
        log.warning("not ready", check=name, error=type(exc).__name__, detail=str(exc))
        return False
    return True


@router.get("/readyz")
def readyz(services: ServicesDep) -> JSONResponse:
    """Ready when the database answers and the current signing keys decrypt and sign (the signer
    checks that afresh every few seconds, not on every probe). The database is asked read-only, so
    on SQLite the probe never queues behind a writer."""

    def database_answers() -> None:
        with services.engine.execution_options(**{READ_ONLY: True}).connect() as connection:
            connection.execute(text("SELECT 1"))

    checks = {
        "database": _passes("database", database_answers),
        "keys": _passes("keys", services.signer.check_usable),
    }
    failing = [name for name, passed in checks.items() if not passed]
    return JSONResponse(
        {"status": "not ready" if failing else "ready", "checks": checks, "failing": failing},
        status_code=503 if failing else 200,
        headers={"Cache-Control": "no-store"},
    )
