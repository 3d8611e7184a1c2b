"""The admin console for MOU policy: MOUs and their versions side by side, drafting, the two-person
approval, suspension, a dry run of what a service would receive, the release ledger, and the
relying services. The pages read forms and render; ``broker.policy.agreements`` does the work, under
the rules of ``broker.policy.mou``, and writes the audit events."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from broker.deps import Db, Form, ServicesDep
from broker.oidc.clients import RelyingServices
from broker.policy.agreements import AgreementRefused, Agreements
from broker.policy.claims import HUMAN_NAMES
from broker.policy.mou import CONTROLLER_RELATIONSHIPS, ENDS_AT_ONCE, LEVELS, can
from broker.policy.reminders import Reminders
from broker.store.bounds import text_problem
from broker.webkit.access import ROLES, signed_in, staff
from broker.webkit.pages import render, see_other
from broker.webkit.router import page_router

router = page_router("admin")

ACTIONS = {  # action → (button words, roles that may do it)
    "submit": ("Submit for approval", ("policy_author",)),
    "approve": ("Approve", ("approver",)),
    "reject": ("Reject", ("approver",)),
    "suspend": ("Suspend", ("approver",)),
    "resume": ("Resume", ("approver",)),
    "terminate": ("End this agreement", ("approver",)),
}
READERS = ("policy_author", "approver", "auditor", "client_manager")
SEARCH_LENGTH = 200  # a search of the services' names is never longer than a name
# What the version page says after an action, and the status the version must have for it to be true.
DONE = {
    "submit": (
        "Version submitted for approval. A second person with the approver role approves it.",
        "submitted",
    ),
    "approve": ("Version approved.", "approved"),
    "reject": ("Version rejected and returned to draft.", "draft"),
    "suspend": ("Agreement suspended: nothing is shared with the service until it is resumed.", "suspended"),
    "resume": ("Agreement resumed.", "approved"),
    "terminate": ("Agreement ended: nothing more is shared with the service.", "terminated"),
}


def agreements(db: Db, services: ServicesDep) -> Agreements:
    return Agreements(db, services.clock)


@router.get("/admin")
def home(request: Request, db: Db, services: ServicesDep) -> Response:
    """The console at a glance: each service's agreement, those ending soon and those due for review
    (for staff who read agreements), with search and paging."""
    account = staff(request)
    roles = [ROLES[r] for r in sorted(set(account.roles) & set(ROLES))]
    context: dict[str, Any] = {"title": "Admin", "roles": roles, "account": account, "glance": None}
    if set(account.roles) & set(READERS):
        search = (request.query_params.get("search") or "").strip()
        if text_problem(search, SEARCH_LENGTH):  # from the address bar: PostgreSQL refuses a NUL byte
            errors = {"search": f"Search with at most {SEARCH_LENGTH} characters, and no control characters"}
            return render(services, request, "admin/home.html", {**context, "search": ""}, errors)
        number = request.query_params.get("page") or "1"
        page = int(number) if number.isascii() and number.isdigit() and len(number) < 6 else 1
        due = Reminders(db, services.clock, "").due()
        context |= {
            "glance": agreements(db, services).at_a_glance(search, page),
            "search": search,
            "ending": [d for d in due if d.milestone.kind == "end"],
            "reviews": [d for d in due if d.milestone.kind == "review"],
            "names": HUMAN_NAMES,
        }
    return render(services, request, "admin/home.html", context)


@router.get("/admin/passkey")
def passkey_needed(request: Request, db: Db, services: ServicesDep) -> Response:
    """Staff signed in without their passkey: why the console needs it, and the way on."""
    signed_in(request)
    # Where "Sign in again" leads after signing out (the sign-out page checks it is one of ours).
    after = request.query_params.get("next") or "/admin"
    return render(
        services, request, "admin/passkey.html", {"title": "Sign in with your passkey", "next": after}
    )


@router.get("/admin/mous")
def mous(request: Request, db: Db, services: ServicesDep) -> Response:
    staff(request, *READERS)
    rows = agreements(db, services).overview()
    return render(services, request, "admin/mous.html", {"title": "Data sharing agreements", "rows": rows})


@router.get("/admin/mous/{reference}")
def mou_page(reference: str, request: Request, db: Db, services: ServicesDep) -> Response:
    account = staff(request, *READERS)
    number = request.query_params.get("version")
    done = request.query_params.get("done")
    return _mou_page(request, db, services, reference, account.roles, None, number, done)


def _mou_page(
    request: Request,
    db: Db,
    services: ServicesDep,
    reference: str,
    roles: list[str],
    errors: dict[str, str] | None,
    number: int | str | None = None,
    done: str | None = None,
) -> Response:
    view = agreements(db, services).version(reference, number)
    # What was just done, as the version stands now (a link naming an action not done says nothing).
    said = DONE.get(done or "")
    done_words = said[0] if said and view.shown.status == said[1] else None
    actions = [
        (action, words)
        for action, (words, allowed) in ACTIONS.items()
        if set(roles) & set(allowed) and can(view.shown.status, action)
    ]
    context: dict[str, Any] = {
        **{f.name: getattr(view, f.name) for f in fields(view)},
        "title": f"{view.mou.reference}: version {view.shown.number}",
        "names": HUMAN_NAMES,
        "actions": actions,
        "can_draft": "policy_author" in roles,
        "relationships": CONTROLLER_RELATIONSHIPS,
        "done": done_words if not errors else None,
        "ends_at_once_words": ENDS_AT_ONCE.format(end=view.terms.end),
    }
    return render(services, request, "admin/mou.html", context, errors)


@router.post("/admin/mous/{reference}/versions/{number}/{action}")
def act_on(
    reference: str, number: int, action: str, request: Request, db: Db, services: ServicesDep, form: Form
) -> Response:
    account = staff(request, *ACTIONS.get(action, ("", READERS))[1])  # no such action: a 404 for readers
    confirmed = form.get("confirm_end") == "yes"
    try:
        agreements(db, services).act(
            reference, number, action, account.id, form.get("note") or "", confirmed=confirmed
        )
    except AgreementRefused as refused:
        return _mou_page(request, db, services, reference, account.roles, refused.errors, number)
    return see_other(f"/admin/mous/{reference}?version={number}&done={action}")


def _draft_form(
    request: Request,
    services: ServicesDep,
    mou: Any,
    values: dict[str, str],
    errors: dict[str, str] | None,
    prefilled_from: Any = None,
) -> Response:
    context = {
        "title": f"New version of {mou.reference}",
        "mou": mou,
        "values": values,
        "levels": LEVELS,
        "relationships": CONTROLLER_RELATIONSHIPS,
        "prefilled_from": prefilled_from,
        "fresh": not errors,
    }
    return render(services, request, "admin/draft.html", context, errors)


@router.get("/admin/mous/{reference}/new")
def draft_page(reference: str, request: Request, db: Db, services: ServicesDep) -> Response:
    staff(request, "policy_author")
    mou, current, values = agreements(db, services).draft_values(reference)
    return _draft_form(request, services, mou, values, None, current)


@router.post("/admin/mous/{reference}/new")
def draft(reference: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    account = staff(request, "policy_author")
    service = agreements(db, services)
    try:
        row = service.draft(reference, form.data, account.id)
    except AgreementRefused as refused:
        mou, _ = service.find(reference)
        return _draft_form(request, services, mou, dict(form.data), refused.errors)
    return see_other(f"/admin/mous/{reference}?version={row.number}")


@router.get("/admin/mous/{reference}/dry-run")
def dry_run(reference: str, request: Request, db: Db, services: ServicesDep) -> Response:
    """What this service would receive for a person at a given level who agreed to everything."""
    staff(request, *READERS)
    query = request.query_params
    run = agreements(db, services).dry_run(reference, query.get("version"), query.get("level", "P0"))
    context = {
        **{f.name: getattr(run, f.name) for f in fields(run)},
        "title": f"Dry run: {run.mou.reference} version {run.row.number} at {run.level}",
        "levels": LEVELS,
        "names": HUMAN_NAMES,
    }
    return render(services, request, "admin/dry_run.html", context)


@router.get("/admin/releases")
def releases(request: Request, db: Db, services: ServicesDep) -> Response:
    """The release ledger, filtered by service, person (account id) and date."""
    staff(request, "auditor")
    filters = {k: (request.query_params.get(k) or "").strip() for k in ("client", "account", "since")}
    context: dict[str, Any] = {"title": "Release ledger", "rows": [], "filters": filters}
    try:
        since = datetime.fromisoformat(filters["since"]) if filters["since"] else None
    except ValueError:  # a filter that cannot be read is said so, never silently dropped
        errors = {"since": "Enter the date as YYYY-MM-DD, or a date and time as YYYY-MM-DDTHH:MM"}
        return render(services, request, "admin/releases.html", context, errors)
    context["rows"] = agreements(db, services).releases(
        client_id=filters["client"], account_id=filters["account"], since=since
    )
    return render(services, request, "admin/releases.html", context)


@router.get("/admin/services")
def services_page(request: Request, db: Db, services: ServicesDep) -> Response:
    staff(request, "client_manager", "auditor")
    clients, mous = RelyingServices(db, services.clock).listing()
    return render(
        services,
        request,
        "admin/services.html",
        {"title": "Relying services", "clients": clients, "mous": mous},
    )
