"""Evaluate: pick a person (by email address) and a service, and see exactly what would be released
now and why (``broker.policy.evaluation``). A read-only page for those who read agreements."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from broker.deps import Db, ServicesDep
from broker.policy.agreements import AgreementRefused
from broker.policy.claims import HUMAN_NAMES
from broker.policy.evaluation import Evaluate
from broker.webkit.access import staff
from broker.webkit.pages import render
from broker.webkit.router import page_router

router = page_router("admin")
READERS = ("policy_author", "approver", "auditor")


@router.get("/admin/evaluate")
def evaluate(request: Request, db: Db, services: ServicesDep) -> Response:
    staff(request, *READERS)
    service = Evaluate(db, services.clock)
    values = {k: (request.query_params.get(k) or "").strip() for k in ("email", "service")}
    context: dict[str, Any] = {
        "title": "Evaluate what a service would receive",
        "clients": service.services(),
        "values": values,
        "names": HUMAN_NAMES,
        "result": None,
    }
    if not any(values.values()):
        return render(services, request, "admin/evaluate.html", context)
    try:
        context["result"] = service.run(values["email"], values["service"])
    except AgreementRefused as refused:
        return render(services, request, "admin/evaluate.html", context, refused.errors)
    return render(services, request, "admin/evaluate.html", context)
