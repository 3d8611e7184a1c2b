"""The admin console for MOU policy: MOUs and their versions side by side, drafting, the two-person
approval, suspension, a dry run of what a service would receive, the release ledger, and the
relying services. Every action is audited (``broker.policy.service`` writes the events)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select

from broker.deps import Db, Form, ServicesDep
from broker.errors import PageError
from broker.policy.claims import HUMAN_NAMES
from broker.policy.mou import (
    LEVELS,
    TRANSITIONS,
    PolicyError,
    Terms,
    attribute_lines,
    diff,
    effective_status,
    parse_attribute_lines,
)
from broker.policy.release import Agreement, ConsentFacts, decide
from broker.policy.service import add_version, apply, governing, history, terms_of, with_companion_terms
from broker.store.models import Client, Mou, MouVersion, ReleaseRecord
from broker.webkit.access import ROLES, staff
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


class NoSuchMou(PageError):
    status = 404
    code = "not_found"
    title = "There is no such MOU"


def _mou(db: Db, reference: str) -> tuple[Mou, list[MouVersion]]:
    mou = db.scalar(select(Mou).filter_by(reference=reference))
    if mou is None:
        raise NoSuchMou("Check the reference and try again.")
    versions = list(db.scalars(select(MouVersion).filter_by(mou_id=mou.id).order_by(MouVersion.number)))
    return mou, versions


@router.get("/admin")
def home(request: Request, db: Db, services: ServicesDep) -> Response:
    account = staff(request)
    roles = [ROLES[r] for r in sorted(set(account.roles) & set(ROLES))]
    return render(
        services, request, "admin/home.html", {"title": "Admin", "roles": roles, "account": account}
    )


@router.get("/admin/mous")
def mous(request: Request, db: Db, services: ServicesDep) -> Response:
    """Every MOU with the version that governs its service today (its state is what the service
    gets), and the newest version when that is another (a draft, or one approved to start later)."""
    staff(request, *READERS)
    today = services.clock().date()
    rows = []
    for mou in db.scalars(select(Mou).order_by(Mou.reference)):
        latest = db.scalars(
            select(MouVersion).filter_by(mou_id=mou.id).order_by(MouVersion.number.desc())
        ).first()
        current = governing(db, mou.client_id, today=today)
        rows.append(
            {
                "mou": mou,
                "client": db.get(Client, mou.client_id),
                "governing": current,
                "status": effective_status(current.status, terms_of(current), today) if current else "none",
                "latest": latest,
                "latest_status": effective_status(latest.status, terms_of(latest), today) if latest else "",
            }
        )
    return render(services, request, "admin/mous.html", {"title": "Data sharing agreements", "rows": rows})


@router.get("/admin/mous/{reference}")
def mou_page(reference: str, request: Request, db: Db, services: ServicesDep) -> Response:
    account = staff(request, *READERS)
    return _mou_page(request, db, services, reference, account.roles, None)


def _mou_page(
    request: Request,
    db: Db,
    services: ServicesDep,
    reference: str,
    roles: list[str],
    errors: dict[str, str] | None,
    number: int | None = None,
) -> Response:
    """One version of an MOU (``number``, else the one the query names, else the newest)."""
    mou, versions = _mou(db, reference)
    if not versions:
        raise NoSuchMou("This MOU has no versions yet.")
    today = services.clock().date()
    wanted = str(number) if number is not None else request.query_params.get("version", "")
    shown = next((v for v in versions if str(v.number) == wanted), versions[-1])
    before = next((v for v in versions if v.number == shown.number - 1), None)
    terms = terms_of(shown)
    status = effective_status(shown.status, terms, today)
    actions = [
        (action, words)
        for action, (words, allowed) in ACTIONS.items()
        if set(roles) & set(allowed) and _allowed(shown.status, action)
    ]
    context: dict[str, Any] = {
        "title": f"{mou.reference}: version {shown.number}",
        "mou": mou,
        "client": db.get(Client, mou.client_id),
        "versions": [(v, effective_status(v.status, terms_of(v), today)) for v in versions],
        "shown": shown,
        "status": status,
        "terms": terms,
        "names": HUMAN_NAMES,
        "changes": diff(terms_of(before), terms) if before else [],
        "before": before,
        "actions": actions,
        "can_draft": "policy_author" in roles,
        "history": [
            {
                "at": e.at,
                "action": e.action.removeprefix("mou."),
                "actor": e.actor,
                "note": e.details.get("note"),
            }
            for e in history(db, mou, shown.number)
        ],
    }
    return render(services, request, "admin/mou.html", context, errors)


def _allowed(status: str, action: str) -> bool:
    return (status, action) in TRANSITIONS


@router.post("/admin/mous/{reference}/versions/{number}/{action}")
def act_on(
    reference: str, number: int, action: str, request: Request, db: Db, services: ServicesDep, form: Form
) -> Response:
    if action not in ACTIONS:
        raise NoSuchMou("There is no such action.")
    account = staff(request, *ACTIONS[action][1])
    _, versions = _mou(db, reference)
    row = next((v for v in versions if v.number == number), None)
    if row is None:
        raise NoSuchMou("There is no such version.")
    note = (form.get("note") or "").strip()
    if action in ("reject", "suspend", "terminate") and not note:
        return _mou_page(request, db, services, reference, account.roles, {"note": "Give a reason"}, number)
    try:
        apply(db, row, action, account.id, services.clock(), note)
    except PolicyError as exc:
        db.rollback()
        return _mou_page(request, db, services, reference, account.roles, {"note": str(exc)}, number)
    db.commit()
    return see_other(f"/admin/mous/{reference}?version={number}")


def _draft_form(
    request: Request, services: ServicesDep, mou: Mou, values: dict[str, str], errors: dict[str, str] | None
) -> Response:
    context = {"title": f"New version of {mou.reference}", "mou": mou, "values": values, "levels": LEVELS}
    return render(services, request, "admin/draft.html", context, errors)


@router.get("/admin/mous/{reference}/new")
def draft_page(reference: str, request: Request, db: Db, services: ServicesDep) -> Response:
    staff(request, "policy_author")
    mou, versions = _mou(db, reference)
    values: dict[str, str] = {}
    if versions:
        terms = terms_of(versions[-1])
        values = {
            "organisation": terms.organisation,
            "purpose": terms.purpose,
            "lawful_basis": terms.lawful_basis,
            "attributes": attribute_lines(terms),
            "start": terms.start.isoformat(),
            "end": terms.end.isoformat(),
            "review": terms.review.isoformat(),
            "onward_sharing": "yes" if terms.onward_sharing else "",
            "security_commitments": terms.security_commitments,
            "contacts": terms.contacts,
        }
    return _draft_form(request, services, mou, values, None)


def read_terms(form: Form) -> tuple[Terms | None, dict[str, str]]:
    errors: dict[str, str] = {}
    dates: dict[str, date] = {}
    for name in ("start", "end", "review"):
        try:
            dates[name] = date.fromisoformat((form.get(name) or "").strip())
        except ValueError:
            errors[name] = f"Enter the {name} date as YYYY-MM-DD"
    try:
        attributes = parse_attribute_lines(form.get("attributes") or "")
    except PolicyError as exc:
        errors["attributes"] = str(exc)
        attributes = ()
    if errors:
        return None, errors
    terms = Terms(
        organisation=(form.get("organisation") or "").strip(),
        purpose=(form.get("purpose") or "").strip(),
        lawful_basis=(form.get("lawful_basis") or "").strip(),
        attributes=attributes,
        start=dates["start"],
        end=dates["end"],
        review=dates["review"],
        onward_sharing=form.get("onward_sharing") == "yes",
        security_commitments=(form.get("security_commitments") or "").strip(),
        contacts=(form.get("contacts") or "").strip(),
    )
    for field, problem in terms.field_problems():
        errors.setdefault(field, problem)
    return (None, errors) if errors else (terms, {})


@router.post("/admin/mous/{reference}/new")
def draft(reference: str, request: Request, db: Db, services: ServicesDep, form: Form) -> Response:
    account = staff(request, "policy_author")
    mou, _ = _mou(db, reference)
    terms, errors = read_terms(form)
    if terms is None:
        return _draft_form(request, services, mou, dict(form.data), errors)
    row = add_version(db, mou, terms, account.id, services.clock())
    db.commit()
    return see_other(f"/admin/mous/{reference}?version={row.number}")


@router.get("/admin/mous/{reference}/dry-run")
def dry_run(reference: str, request: Request, db: Db, services: ServicesDep) -> Response:
    """What this service would receive for a person at a given level who agreed to everything."""
    staff(request, *READERS)
    mou, versions = _mou(db, reference)
    level = request.query_params.get("level", "P0")
    level = level if level in LEVELS else "P0"
    wanted = request.query_params.get("version", "")
    row = next((v for v in versions if str(v.number) == wanted), versions[-1] if versions else None)
    if row is None:
        raise NoSuchMou("This MOU has no versions yet.")
    terms = with_companion_terms(terms_of(row))
    context = {
        "title": f"Dry run: {mou.reference} version {row.number} at {level}",
        "mou": mou,
        "row": row,
        "level": level,
        "levels": LEVELS,
        "names": HUMAN_NAMES,
        # Terms that could not be submitted (an import from before they were checked) decide nothing.
        "problems": terms.problems(),
        "released": [],
        "refused": [],
    }
    if not context["problems"]:
        claims = frozenset(a.claim for a in terms.attributes)
        status = "approved" if row.status in ("draft", "submitted") else row.status  # as if approved
        result = decide(
            Agreement(row.id, status, terms), claims, ConsentFacts(row.id, claims), level, services.clock()
        )
        context["released"], context["refused"] = sorted(result.released), sorted(result.refused.items())
    return render(services, request, "admin/dry_run.html", context)


@router.get("/admin/releases")
def releases(request: Request, db: Db, services: ServicesDep) -> Response:
    """The release ledger, filtered by service, person (account id) and date."""
    staff(request, "auditor")
    query = select(ReleaseRecord).order_by(ReleaseRecord.released_at.desc()).limit(200)
    filters = {k: (request.query_params.get(k) or "").strip() for k in ("client", "account", "since")}
    if filters["client"]:
        query = query.where(ReleaseRecord.client_id == filters["client"])
    if filters["account"]:
        query = query.where(ReleaseRecord.account_id == filters["account"])
    if filters["since"]:
        try:
            since = datetime.fromisoformat(filters["since"])
        except ValueError:  # a filter that cannot be read is said so, never silently dropped
            context = {"title": "Release ledger", "rows": [], "filters": filters}
            errors = {"since": "Enter the date as YYYY-MM-DD, or a date and time as YYYY-MM-DDTHH:MM"}
            return render(services, request, "admin/releases.html", context, errors)
        if since.tzinfo is None:
            since = since.replace(tzinfo=services.clock().tzinfo)
        query = query.where(ReleaseRecord.released_at >= since)
    rows = list(db.scalars(query))
    return render(
        services,
        request,
        "admin/releases.html",
        {"title": "Release ledger", "rows": rows, "filters": filters},
    )


@router.get("/admin/services")
def services_page(request: Request, db: Db, services: ServicesDep) -> Response:
    staff(request, "client_manager", "auditor")
    clients = list(db.scalars(select(Client).order_by(Client.name)))
    mous = {m.client_id: m for m in db.scalars(select(Mou))}
    return render(
        services,
        request,
        "admin/services.html",
        {"title": "Relying services", "clients": clients, "mous": mous},
    )
