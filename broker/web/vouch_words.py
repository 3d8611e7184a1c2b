"""How a vouch stands, in words, for the applicant's and the voucher's pages; and a rule's or a
service's reason in the request's language."""

from __future__ import annotations

from datetime import datetime

from broker.identity.vouching import state
from broker.store.models import Vouch
from broker.web.i18n import N_, _, long_date
from vouching.text import Filled

STATUS_WORDS = {
    "invited": N_("Waiting for them to answer"),
    "review": N_("Being checked by our team"),
    "cooling_off": N_("Vouched: takes effect on %(date)s"),
    "effective": N_("Vouched"),
    "withdrawn": N_("Withdrawn"),
    "refused": N_("Could not be accepted"),
    "declined": N_("Declined"),
}


def vouch_status(vouch: Vouch, now: datetime) -> str:
    return "declined" if vouch.declined_at else state(vouch).status(now)


def status_words(status: str, vouch: Vouch) -> str:
    """A vouch's status in the request's language (the date it takes effect, when it has one)."""
    when = long_date(vouch.effective_at) if vouch.effective_at else ""
    message = STATUS_WORDS.get(status) or STATUS_WORDS["declined"]
    return _(message, date=when)


def reason_words(reason: str) -> str:
    """A rule's refusal or a service's problem in the request's language, with its values when it has any."""
    if isinstance(reason, Filled):
        return _(reason.message, **reason.values)
    return _(reason)
