"""Every page declares the session it needs, in one table (broker/webkit/access.py PAGES)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from broker.app import ROUTED
from broker.webkit.access import (
    PAGES,
    PASSKEY_PAGE,
    Need,
    UndeclaredPage,
    page_routes,
    rule_for,
    shortfall,
    undeclared_pages,
)
from broker.webkit.router import page_router

ROUTES = sorted(
    (route.path, method) for route in page_routes(m.router for m in ROUTED) for method in route.methods
)


def test_every_page_route_declares_the_session_it_needs() -> None:
    assert undeclared_pages(m.router for m in ROUTED) == []


def test_the_table_names_only_pages_that_exist() -> None:
    assert sorted(set(PAGES) - {path for path, _method in ROUTES}) == []


@pytest.mark.parametrize(("path", "method"), ROUTES, ids=[f"{m} {p}" for p, m in ROUTES])
def test_each_page_route_and_its_requirement(path: str, method: str) -> None:
    # One line per route in the report (pytest -v): the route and the session it needs.
    assert rule_for(path).need in Need


SENSITIVE = [
    "/account/delete",
    "/account/data.json",
    "/account/identity",
    "/identity/prove",
    "/identity/passport",
    "/identity/driving-licence",
    "/identity/vouching/start",
    "/account/password",
    "/account/security/email",
    "/account/security/phone",
    "/account/security/authenticator",
    "/account/security/backup",
    "/account/passkeys",
    "/account/passkeys/{credential_id}/remove",
    "/account/sign-out-everywhere",
]


@pytest.mark.parametrize("path", SENSITIVE)
def test_sensitive_actions_need_the_second_factor_in_this_session(path: str) -> None:
    assert rule_for(path).need in (Need.TWO_FACTORS, Need.RECENT_TWO_FACTORS)


@pytest.mark.parametrize("path", ["/account/delete", "/account/password", "/account/security/email"])
def test_changing_how_you_sign_in_or_deleting_needs_a_recent_sign_in(path: str) -> None:
    assert rule_for(path).need is Need.RECENT_TWO_FACTORS


def test_every_admin_page_needs_staff_with_a_passkey() -> None:
    admin = [path for path, _method in ROUTES if path.startswith("/admin") and path != PASSKEY_PAGE]
    assert admin and all(rule_for(path).need is Need.STAFF for path in admin)
    # The one exception is the page that tells staff signed in another way to use their passkey.
    assert rule_for(PASSKEY_PAGE).need is Need.SIGNED_IN


def test_an_undeclared_page_is_refused() -> None:
    router: APIRouter = page_router()

    @router.get("/not-in-the-table")
    async def page() -> None:  # pragma: no cover - never served
        return None

    assert undeclared_pages([router]) == ["/not-in-the-table"]
    with pytest.raises(UndeclaredPage):
        rule_for("/not-in-the-table")
    assert all(isinstance(r, APIRoute) for r in page_routes([router]))


@dataclass
class Session:
    level: str
    amr: list[str] = field(default_factory=lambda: ["pwd"])


@dataclass
class Account:
    roles: list[str] = field(default_factory=list)


RECENT, OLD = timedelta(minutes=5), timedelta(minutes=16)


@pytest.mark.parametrize(
    ("need", "session", "account", "since", "missing"),
    [
        (Need.SIGNED_IN, Session("Cl"), Account(), OLD, None),
        (Need.TWO_FACTORS, Session("Cl"), Account(), RECENT, "second factor"),
        (Need.TWO_FACTORS, Session("Cl.Cm", ["pwd", "otp"]), Account(), OLD, None),
        (Need.RECENT_TWO_FACTORS, Session("Cl.Cm", ["pwd", "otp"]), Account(), RECENT, None),
        (Need.RECENT_TWO_FACTORS, Session("Cl.Cm", ["pwd", "otp"]), Account(), OLD, "recent sign-in"),
        (Need.RECENT_TWO_FACTORS, Session("Cl"), Account(), RECENT, "second factor"),
        (Need.STAFF, Session("Cl.Cm", ["hwk"]), Account([]), RECENT, "staff role"),
        (Need.STAFF, Session("Cl.Cm", ["hwk"]), Account(["made_up"]), RECENT, "staff role"),
        (Need.STAFF, Session("Cl.Cm", ["pwd", "otp"]), Account(["approver"]), RECENT, "passkey"),
        (Need.STAFF, Session("Cl.Cm", ["hwk"]), Account(["approver"]), OLD, None),
    ],
)
def test_what_a_session_lacks(need: Need, session: Session, account: Account, since: timedelta, missing: str | None) -> None:
    assert shortfall(need, session, account, since) == missing  # type: ignore[arg-type]
