"""Liveness and readiness."""

from __future__ import annotations

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from broker.deps import Db, ServicesDep

router = APIRouter(tags=["health"])
log = structlog.get_logger(__name__)


@router.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


@router.get("/readyz")
def readyz(db: Db, services: ServicesDep) -> JSONResponse:
    checks = {"database": False, "keys": False}
    try:
        db.execute(text("SELECT 1"))
        checks["database"] = True
        checks["keys"] = bool(services.signer.jwks().get("keys"))
    except Exception as exc:  # noqa: BLE001 - readiness reports what is wrong, it does not raise
        log.warning("not ready", error=type(exc).__name__)
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
        headers={"Cache-Control": "no-store"},
    )
