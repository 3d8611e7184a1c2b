"""The staff page: who holds which staff role, and granting and revoking roles. Only an administrator
may use it; ``broker.accounts.staff`` does the work, audits each change and keeps the last administrator."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from broker.accounts.staff import ADMINISTRATOR, ROLES, StaffChangeRefused, StaffRoles
from broker.deps import Db, Form, ServicesDep
from broker.webkit.access import staff
from broker.webkit.pages import render, see_other
from broker.webkit.router import page_router

router = page_router("admin")


def _page(
    request: Request,
    db: Db,
    services: ServicesDep,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    context = {
        "title": "Staff",
        "members": StaffRoles(db, services.clock).listing(),
        "roles": ROLES,
        "values": values or {},
    }
    return render(services, request, "admin/staff.html", context, errors)


@router.get("/admin/staff")
def staff_page(request: Request, db: Db, services: ServicesDep) -> Response:
    staff(request, ADMINISTRATOR)
    return _page(request, db, services)


@router.post("/admin/staff/{change}")
def change_role(change: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    account = staff(request, ADMINISTRATOR)
    roles = StaffRoles(db, services.clock)
    email, role = (form.get("email") or "").strip(), (form.get("role") or "").strip()
    try:
        if change == "grant":
            roles.grant(email, role, account.id)
        elif change == "revoke":
            roles.revoke(email, role, account.id)
        else:
            return _page(request, db, services, {"role": "There is no such change"})
    except StaffChangeRefused as refused:
        return _page(
            request, db, services, {refused.field: refused.description}, {"email": email, "role": role}
        )
    return see_other("/admin/staff")
