"""Second factors: authenticator app (TOTP, RFC 6238), text message and email codes."""

from __future__ import annotations

import io
from datetime import datetime

import phonenumbers
import pyotp
import segno

from broker.accounts.text import N_
from broker.store.models import Account

METHODS = ("totp", "sms", "email")
# RFC 8176 authentication method references for each way of signing in.
AMR = {"email": ["pwd", "otp"], "sms": ["pwd", "sms"], "totp": ["pwd", "otp", "swk"]}


def method_of(account: Account) -> str:
    return account.mfa_method or "email"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str, issuer: str) -> str:
    """What the authenticator app is told: the account, under the service's name (``issuer``)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def totp_qr_svg(uri: str) -> str:
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=4, xmldecl=False, svgns=True, title="QR code")
    return out.getvalue().decode()


def totp_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step the code matches (one step of drift allowed), or None. A step works only once."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current, current - 1, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.at(step * totp.interval), code):
            return step
    return None


class PhoneInvalid(ValueError):
    """Its message is a catalogue message, for the page to show."""


WRONG_FORMAT = N_("Enter a phone number in the correct format, like 07700 900 982")


def normalise_phone(raw: str, region: str = "GB") -> str:
    """E.164 form of a mobile number, as One Login returns it."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise PhoneInvalid(WRONG_FORMAT) from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneInvalid(WRONG_FORMAT)
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise PhoneInvalid(N_("Enter a mobile phone number that can receive text messages"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    return "*" * max(len(e164) - 4, 0) + e164[-4:]
