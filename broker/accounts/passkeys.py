"""Passkeys (WebAuthn Level 3, via py_webauthn): register one or more, sign in with one alone.

A passkey sign-in needs user verification (a fingerprint, face or PIN on the device), so it is two
factors in one: something you have and something you are or know. It satisfies ``Cl.Cm``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import webauthn
from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, options_to_json
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from broker.accounts.text import N_
from broker.errors import BrokerError
from broker.store.models import Account, Passkey

AMR = ["hwk", "user"]  # RFC 8176: proof of a key held in hardware, plus user verification


NAME_LENGTH: int = Passkey.__table__.c.name.type.length  # type: ignore[attr-defined]


def passkey_name(raw: str) -> str:
    """A name the column can hold: NULs dropped, cut to its length, spaces trimmed."""
    return raw.replace("\x00", "").strip()[:NAME_LENGTH]


class PasskeyFailed(BrokerError):
    code = "passkey_failed"
    title = N_("We could not use that passkey")
    for_people = True  # passkey.js shows the description on the page
    account_id: str | None = None  # whose passkey it was, when known (for the audit log)


@dataclass(frozen=True)
class RelyingPartyIdentity:
    rp_id: str
    origin: str
    name: str  # what the person's device shows beside the passkey: the service's name

    @classmethod
    def for_issuer(cls, issuer: str, name: str) -> RelyingPartyIdentity:
        parts = urlsplit(issuer)
        return cls(rp_id=parts.hostname or "", origin=f"{parts.scheme}://{parts.netloc}", name=name)


class Passkeys:
    def __init__(self, db: Session, rp: RelyingPartyIdentity) -> None:
        self.db = db
        self.rp = rp

    def of(self, account_id: str) -> list[Passkey]:
        return list(
            self.db.scalars(
                select(Passkey).where(Passkey.account_id == account_id).order_by(Passkey.created_at)
            )
        )

    def registration_options(self, account: Account) -> tuple[dict[str, Any], str]:
        options = webauthn.generate_registration_options(
            rp_id=self.rp.rp_id,
            rp_name=self.rp.name,
            user_id=account.id.encode(),
            user_name=account.email,
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                for p in self.of(account.id)
            ],
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
        )
        return json.loads(options_to_json(options)), bytes_to_base64url(options.challenge)

    def register(
        self, account: Account, credential: dict[str, Any], challenge: str, name: str, now: datetime
    ) -> Passkey:
        try:
            verified = webauthn.verify_registration_response(
                credential=credential,
                expected_challenge=base64url_to_bytes(challenge),
                expected_rp_id=self.rp.rp_id,
                expected_origin=self.rp.origin,
                require_user_verification=True,
            )
        except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
            raise PasskeyFailed(N_("The passkey could not be checked. Try again.")) from exc
        credential_id = bytes_to_base64url(verified.credential_id)
        if self.db.get(Passkey, credential_id) is not None:
            raise PasskeyFailed(N_("That passkey is already registered."))
        passkey = Passkey(
            credential_id=credential_id,
            account_id=account.id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            name=passkey_name(name) or "Passkey",
            transports=list((credential.get("response") or {}).get("transports") or []),
            created_at=now,
        )
        self.db.add(passkey)
        self.db.flush()
        return passkey

    def authentication_options(self) -> tuple[dict[str, Any], str]:
        # No allow list: a discoverable credential names its own account.
        options = webauthn.generate_authentication_options(
            rp_id=self.rp.rp_id, user_verification=UserVerificationRequirement.REQUIRED
        )
        return json.loads(options_to_json(options)), bytes_to_base64url(options.challenge)

    def authenticate(self, credential: dict[str, Any], challenge: str, now: datetime) -> Passkey:
        passkey = self.db.get(Passkey, str(credential.get("id") or credential.get("rawId") or ""))
        if passkey is None:
            raise PasskeyFailed(N_("That passkey is not registered with an account here."))
        try:
            verified = webauthn.verify_authentication_response(
                credential=credential,
                expected_challenge=base64url_to_bytes(challenge),
                expected_rp_id=self.rp.rp_id,
                expected_origin=self.rp.origin,
                credential_public_key=passkey.public_key,
                credential_current_sign_count=passkey.sign_count,
                require_user_verification=True,
            )
        except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as exc:
            # py_webauthn refuses a sign count that did not grow (a cloned authenticator) here too.
            failed = PasskeyFailed(N_("The passkey could not be checked. Try again."))
            failed.account_id = passkey.account_id
            raise failed from exc
        passkey.sign_count = verified.new_sign_count
        passkey.last_used_at = now
        return passkey

    def remove(self, account_id: str, credential_id: str) -> bool:
        passkey = self.db.get(Passkey, credential_id)
        if passkey is None or passkey.account_id != account_id:
            return False
        self.db.delete(passkey)
        return True
