"""Messages to people. In development they stay in the outbox and show at /dev/outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.language import current_language
from broker.store.models import OutboxMessage

TEMPLATES = {
    "sign_in_code": "Your security code is {code}. It expires in {minutes} minutes. Do not share it.",
    "sms_code": "Your security code is {code}. It expires in {minutes} minutes. Do not share it.",
    "verify_email": "Your security code is {code} to create your account. It expires in {minutes} minutes.",
    "account_exists": "Someone tried to create an account with this email address, but you already have one. "
    "Sign in instead, or reset your password if you have forgotten it. If this was not you, you can ignore "
    "this email.",
    "reset_code": "Your security code is {code} to reset your password. It expires in {minutes} minutes. "
    "If you did not ask for this, you can ignore this email: your password has not changed.",
    "factor_reset_requested": "Someone asked to reset the way you get security codes for your account. If it "
    "was you, you can set up a new way in {hours} hours. If it was not you, sign in as usual to cancel it, "
    "and change your password.",
    "vouch_invitation": "{name} has asked you to vouch for their identity: to confirm who they are because you "
    "know them. Only do this if you have known them for at least 2 years. Open {link} to answer. The link "
    "works for {days} days. If you do not know this person, you can ignore this email.",
    "vouch_received": "Someone has vouched for you. Their vouch takes effect on {date}. If you did not ask "
    "for this, withdraw it at {link}.",
    "vouch_given": "You vouched for {name}. Your vouch takes effect on {date}; until then you can withdraw it "
    "at {link}.",
    "identity_dropped": "Your proven identity has changed level because something it relied on changed, "
    "such as a vouch being withdrawn. See what happened and what you can do at {link}.",
    "password_changed": "Your password was changed and you were signed out everywhere. If this was not you, "
    "contact us straight away.",
    "change_email_code": "Your security code is {code} to change the email address for your account to this "
    "one. It expires in {minutes} minutes. If you did not ask for this, you can ignore this email.",
    "email_change_account_exists": "Someone tried to change the email address of an account to this one, but "
    "this email address already has an account. Nothing has changed. If this was you, sign in with this "
    "email address instead. If it was not you, you can ignore this email.",
    "email_changed": "The email address for your account was changed. You now sign in with the new address. "
    "If this was not you, contact us straight away.",
    "sign_in_method_changed": "The way you get security codes for your account was changed. If this was not "
    "you, contact us straight away.",
    # To an agreement's named owner (staff): its end or review date is near, or its review is overdue.
    "agreement_reminder": "The data sharing agreement {reference} with {organisation} {what} on {date}. "
    "Review it, and draft a new version if it should continue: {link}",
}


# The same messages in Welsh, sent to a person who is using the pages in Welsh. With GOV.UK Notify, a
# Welsh message uses the template id configured for "<name>:cy", or the English one when there is none.
WELSH = {
    "sign_in_code": "Eich cod diogelwch yw {code}. Bydd yn dod i ben mewn {minutes} munud. Peidiwch â'i rannu.",
    "sms_code": "Eich cod diogelwch yw {code}. Bydd yn dod i ben mewn {minutes} munud. Peidiwch â'i rannu.",
    "verify_email": "Eich cod diogelwch i greu eich cyfrif yw {code}. Bydd yn dod i ben mewn {minutes} munud.",
    "account_exists": "Ceisiodd rhywun greu cyfrif gyda'r cyfeiriad e-bost hwn, ond mae gennych chi gyfrif "
    "yn barod. Mewngofnodwch yn lle hynny, neu ailosodwch eich cyfrinair os ydych wedi'i anghofio. Os nad "
    "chi oedd hyn, gallwch anwybyddu'r e-bost hwn.",
    "reset_code": "Eich cod diogelwch i ailosod eich cyfrinair yw {code}. Bydd yn dod i ben mewn {minutes} "
    "munud. Os na wnaethoch ofyn am hyn, gallwch anwybyddu'r e-bost hwn: nid yw eich cyfrinair wedi newid.",
    "factor_reset_requested": "Gofynnodd rhywun am ailosod y ffordd rydych yn cael codau diogelwch ar gyfer "
    "eich cyfrif. Os chi oedd hyn, gallwch sefydlu ffordd newydd ymhen {hours} awr. Os nad chi oedd hyn, "
    "mewngofnodwch fel arfer i'w ganslo, a newidiwch eich cyfrinair.",
    "vouch_invitation": "Mae {name} wedi gofyn i chi warantu pwy ydyn nhw: cadarnhau pwy ydyn nhw am eich bod "
    "yn eu hadnabod. Gwnewch hyn dim ond os ydych wedi eu hadnabod ers o leiaf 2 flynedd. Agorwch {link} i "
    "ateb. Mae'r ddolen yn gweithio am {days} diwrnod. Os nad ydych yn adnabod y person hwn, gallwch "
    "anwybyddu'r e-bost hwn.",
    "vouch_received": "Mae rhywun wedi eich gwarantu. Bydd ei warant yn dod i rym ar {date}. Os na wnaethoch "
    "ofyn am hyn, tynnwch hi'n ôl yn {link}.",
    "vouch_given": "Gwnaethoch warantu {name}. Bydd eich gwarant yn dod i rym ar {date}; tan hynny gallwch ei "
    "thynnu'n ôl yn {link}.",
    "identity_dropped": "Mae lefel eich hunaniaeth wedi'i phrofi wedi newid oherwydd bod rhywbeth yr oedd yn "
    "dibynnu arno wedi newid, fel gwarant yn cael ei thynnu'n ôl. Gwelwch beth ddigwyddodd a beth allwch chi "
    "ei wneud yn {link}.",
    "password_changed": "Cafodd eich cyfrinair ei newid a chawsoch eich allgofnodi ym mhobman. Os nad chi "
    "oedd hyn, cysylltwch â ni ar unwaith.",
    "change_email_code": "Eich cod diogelwch i newid cyfeiriad e-bost eich cyfrif i'r un hwn yw {code}. Bydd yn "
    "dod i ben mewn {minutes} munud. Os na wnaethoch ofyn am hyn, gallwch anwybyddu'r e-bost hwn.",
    "email_change_account_exists": "Ceisiodd rhywun newid cyfeiriad e-bost cyfrif i'r un hwn, ond mae gan y "
    "cyfeiriad e-bost hwn gyfrif yn barod. Does dim wedi newid. Os chi oedd hyn, mewngofnodwch gyda'r "
    "cyfeiriad e-bost hwn yn lle hynny. Os nad chi oedd hyn, gallwch anwybyddu'r e-bost hwn.",
    "email_changed": "Cafodd cyfeiriad e-bost eich cyfrif ei newid. Rydych nawr yn mewngofnodi gyda'r "
    "cyfeiriad newydd. Os nad chi oedd hyn, cysylltwch â ni ar unwaith.",
    "sign_in_method_changed": "Cafodd y ffordd rydych yn cael codau diogelwch ar gyfer eich cyfrif ei newid. "
    "Os nad chi oedd hyn, cysylltwch â ni ar unwaith.",
}
WELSH_SUFFIX = ":cy"


def in_language(template: str, language: str) -> str:
    """The outbox's name for ``template`` in ``language``: ``verify_email`` or ``verify_email:cy``."""
    return f"{template}{WELSH_SUFFIX}" if language == "cy" and template in WELSH else template


def render(template: str, personalisation: dict[str, Any]) -> str:
    name, welsh = template.removesuffix(WELSH_SUFFIX), template.endswith(WELSH_SUFFIX)
    return (WELSH if welsh else TEMPLATES)[name].format(**personalisation)


class Outbox:
    def __init__(self, db: Session) -> None:
        self.db = db

    def send_email(
        self, recipient: str, template: str, personalisation: dict[str, Any], now: datetime
    ) -> None:
        self._add("email", recipient, template, personalisation, now)

    def send_sms(self, recipient: str, template: str, personalisation: dict[str, Any], now: datetime) -> None:
        self._add("sms", recipient, template, personalisation, now)

    def _add(
        self, channel: str, recipient: str, template: str, personalisation: dict[str, Any], now: datetime
    ) -> None:
        self.db.add(
            OutboxMessage(
                id=str(uuid.uuid4()),
                channel=channel,
                recipient=recipient,
                template=in_language(template, current_language()),
                personalisation=personalisation,
                created_at=now,
            )
        )

    def recent(self, limit: int = 50, recipient: str | None = None) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit)
        if recipient:
            query = query.where(OutboxMessage.recipient == recipient)
        return list(self.db.scalars(query))
