"""Steps the email-code journeys share (create an account, reset a password): reading an email
address, checking the emailed code, choosing a new password."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from fastapi import Request

from broker.accounts.codes import WRONG_CODE, Codes
from broker.accounts.policy import password_problem
from broker.accounts.service import normalise_email
from broker.deps import Db, ServicesDep
from broker.store.models import Interaction
from broker.web.i18n import _
from broker.web.signin import client_address

__all__ = ["WRONG_CODE", "check_journey_code", "new_password_errors", "read_email"]


def read_email(raw: str) -> tuple[str | None, str | None]:
    """(normalised address, None), or (None, the message to show)."""
    try:
        return normalise_email(validate_email(raw, check_deliverability=False).normalized), None
    except EmailNotValidError:
        if not raw:
            return None, _("Enter your email address")
        return None, _("Enter an email address in the correct format, like name@example.com")


def check_journey_code(
    request: Request, db: Db, services: ServicesDep, interaction: Interaction, code: str
) -> bool:
    """The emailed code for this journey's address; on success the address counts as proven."""
    assert interaction.journey_email
    if not Codes(db, services.clock(), client_address(request)).check(
        interaction, interaction.journey_email, code, None
    ):
        db.commit()  # keep the count of wrong codes
        return False
    interaction.journey_verified_at = services.clock()
    db.commit()
    return True


def new_password_errors(new: str, confirm: str, email: str) -> dict[str, str]:
    problem = password_problem(new, email=email)
    if problem:
        return {"password": problem}
    if new != confirm:
        return {"confirm": _("Enter the same password twice")}
    return {}
