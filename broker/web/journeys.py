"""Steps the email-code journeys share (create an account, reset a password): reading an email
address, checking the emailed code, choosing a new password, and the pages of each step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Request
from fastapi.responses import Response

from broker.accounts.codes import WRONG_CODE, Purpose
from broker.accounts.journeys import EmailJourneys
from broker.accounts.policy import password_problem
from broker.accounts.service import normalise_email
from broker.deps import Db, Form, ServicesDep
from broker.store.models import Interaction
from broker.web.fields import CODE_FIELD, EMAIL_FIELD, PASSWORD_FIELDS
from broker.web.i18n import _
from broker.web.signin import load_interaction, visit
from broker.webkit.pages import form_page, see_other

__all__ = [
    "WRONG_CODE",
    "EmailJourney",
    "new_password_errors",
    "read_email",
]


def read_email(raw: str) -> tuple[str | None, str | None]:
    """(normalised address, None), or (None, the message to show)."""
    try:
        return normalise_email(validate_email(raw, check_deliverability=False).normalized), None
    except EmailNotValidError:
        if not raw:
            return None, _("Enter your email address")
        return None, _("Enter an email address in the correct format, like name@example.com")


def new_password_errors(new: str, confirm: str, email: str) -> dict[str, str]:
    problem = password_problem(new, email=email)
    if problem:
        return {"password": problem}
    if new != confirm:
        return {"confirm": _("Enter the same password twice")}
    return {}


@dataclass(frozen=True)
class EmailJourney:
    """An email → code → password journey at ``path`` (``/create-account``, ``/reset-password``).

    Its pages differ only in their words; ``add_routes`` adds the steps that are the same in each
    (showing each page, checking the code). The journey's own module handles the two that differ:
    what is sent for an address, and what the new password does. Titles and intros are message ids
    (``N_``), translated when the page is shown; ``code_intro`` gives the code page's words."""

    path: str
    purpose: Purpose
    email_title: str
    email_intro: str
    password_title: str
    code_intro: Callable[[Interaction], str]
    offer_resend: bool = False
    email_is_question: bool = False  # the email page's heading is its one question ("Enter your email address")

    def sent_again(self, interaction: Interaction) -> str:
        """What the page may truthfully say once a code is sent again: an email always goes (a code,
        or the account's owner told they have one), a code only if the address has an account."""
        if self.purpose is Purpose.NEW_ACCOUNT:
            return _("We have sent another email to %(email)s.", email=interaction.journey_email or "")
        return _("If there is an account for that address, we have sent it a new code.")

    def url(self, services: ServicesDep, interaction: Interaction, step: str = "") -> str:
        return f"{services.settings.issuer}{self.path}/{interaction.id}{step}"

    def email_page(
        self, services: ServicesDep, request: Request, interaction: Interaction, **kw: Any
    ) -> Response:
        return form_page(
            services,
            request,
            title=_(self.email_title),
            action=self.url(services, interaction),
            fields=[EMAIL_FIELD],
            intro=[_(self.email_intro)],
            back=f"{services.settings.issuer}/sign-in/{interaction.id}",
            question=self.email_is_question,
            **kw,
        )

    def code_page(
        self, services: ServicesDep, request: Request, interaction: Interaction, **kw: Any
    ) -> Response:
        links = [(self.url(services, interaction), _("Send the code again or use another email address"))]
        return form_page(
            services,
            request,
            title=_("Check your email"),
            action=self.url(services, interaction, "/code"),
            fields=[CODE_FIELD],
            intro=[self.code_intro(interaction)],
            links=links if self.offer_resend else [],
            back=self.url(services, interaction),
            resend=self.url(services, interaction, "/code/resend"),
            **kw,
        )

    def password_page(
        self, services: ServicesDep, request: Request, interaction: Interaction, **kw: Any
    ) -> Response:
        return form_page(
            services,
            request,
            title=_(self.password_title),
            action=self.url(services, interaction, "/password"),
            fields=PASSWORD_FIELDS,
            back=self.url(services, interaction, "/code"),
            **kw,
        )

    def add_routes(self, router: APIRouter) -> None:
        """The shared steps. A step whose earlier step is not done goes back to the start."""
        path = self.path + "/{interaction_id}"

        @router.get(path)
        def email_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
            return self.email_page(services, request, load_interaction(request, db, services, interaction_id))

        @router.get(path + "/code")
        def code_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
            interaction = load_interaction(request, db, services, interaction_id)
            if not interaction.journey_email:
                return see_other(self.url(services, interaction))
            return self.code_page(services, request, interaction)

        @router.post(path + "/code")
        def code(
            interaction_id: str, request: Request, db: Db, services: ServicesDep, form: Form
        ) -> Response:
            interaction = load_interaction(request, db, services, interaction_id)
            if not interaction.journey_email:
                return see_other(self.url(services, interaction))
            entered = (form.get("code") or "").strip()
            if not entered:
                return self.code_page(
                    services, request, interaction, errors={"code": _("Enter the security code")}
                )
            if not EmailJourneys(visit(request, db, services)).check_code(interaction, self.purpose, entered):
                return self.code_page(services, request, interaction, errors={"code": WRONG_CODE})
            return see_other(self.url(services, interaction, "/password"))

        @router.post(path + "/code/resend")
        def resend(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
            """"Not received? Send again": the journey starts again with the same address, so the
            send is counted (and refused past the limit) as the first one was."""
            interaction = load_interaction(request, db, services, interaction_id)
            if not interaction.journey_email:
                return see_other(self.url(services, interaction))
            journeys = EmailJourneys(visit(request, db, services))
            start = (
                journeys.start_new_account if self.purpose is Purpose.NEW_ACCOUNT else journeys.start_reset
            )
            start(interaction, interaction.journey_email)
            return self.code_page(services, request, interaction, sent_again=self.sent_again(interaction))

        @router.get(path + "/password")
        def password_page(interaction_id: str, request: Request, db: Db, services: ServicesDep) -> Response:
            interaction = load_interaction(request, db, services, interaction_id)
            if interaction.journey_verified_at is None:
                return see_other(self.url(services, interaction))
            return self.password_page(services, request, interaction)
