"""The identity claims a relying service receives: the core identity JWT, address, passport and
driving permit (One Login's vocabulary), and OIDC for Identity Assurance ``verified_claims``.

Builders are pure; :func:`identity_values` re-reads the person's identity at release time, so an
identity that has dropped since the authorization is never released at the old level.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from broker.identity.service import claimed_person, current, evidence_about_claimed, records
from broker.oidc.context import OidcContext
from broker.policy.claims import CORE_IDENTITY, RETURN_CODE, VERIFIED_CLAIMS, VOCAB
from broker.store.models import Grant, IdentityRecord
from vouching.levels import LEVELS

CORE_IDENTITY_TTL = 30 * 60
ADDRESS, PASSPORT, DRIVING_PERMIT = VOCAB + "address", VOCAB + "passport", VOCAB + "drivingPermit"
VC_TYPE = ["VerifiableCredential", "VerifiableIdentityCredential"]
DOCUMENT_TYPES = {"uk_passport": "passport", "uk_driving_licence": "driving_permit"}


def did_for(issuer: str) -> str:
    """``did:web`` for the issuer's host (a port is percent-encoded, as did:web requires)."""
    parts = urlsplit(issuer)
    did = "did:web:" + quote(parts.netloc, safe="")
    path = parts.path.strip("/")
    return did + ("".join(":" + quote(p, safe="") for p in path.split("/")) if path else "")


def _names(record: IdentityRecord) -> list[dict[str, Any]]:
    return [
        {"nameParts": name["nameParts"], **{k: name[k] for k in ("validFrom", "validUntil") if name.get(k)}}
        for name in record.names
    ]


def core_identity_claims(
    record: IdentityRecord, *, issuer: str, client_id: str, sub: str, level: str, vtm: str, now: datetime
) -> dict[str, Any]:
    iat = int(now.timestamp())
    assert record.birth_date is not None
    return {
        "iss": issuer,
        "sub": sub,
        "aud": client_id,
        "nbf": iat,
        "iat": iat,
        "exp": iat + CORE_IDENTITY_TTL,
        "vot": level,
        "vtm": vtm,
        "vc": {
            "type": VC_TYPE,
            "credentialSubject": {
                "name": _names(record),
                "birthDate": [{"value": record.birth_date.isoformat()}],
            },
        },
    }


def address_claim(record: IdentityRecord) -> list[dict[str, Any]]:
    out = []
    for address in record.addresses:
        building = address["building"]
        entry: dict[str, Any] = {
            "buildingNumber" if building.isdigit() else "buildingName": building,
            "streetName": address["street"],
            "addressLocality": address["town"],
            "postalCode": address["postcode"],
            "addressCountry": "GB",
            "validFrom": address["lived_from"],
        }
        if address.get("lived_until"):
            entry["validUntil"] = address["lived_until"]
        out.append(entry)
    return out


def _documents(record: IdentityRecord, kind: str) -> list[dict[str, Any]]:
    return [e["document"] for e in evidence_about_claimed(record) if e["counts"] and e["kind"] == kind]


def _evidence(entry: dict[str, Any]) -> dict[str, Any]:
    """One piece of evidence as OIDC for Identity Assurance 1.0 §5.4.4 describes it."""
    document = entry["document"]
    if entry["kind"] == "vouch":
        voucher: dict[str, Any] = {"name": document.get("voucher_name", "")}
        if document.get("occupation"):
            voucher["occupation"] = document["occupation"]
        return {
            "type": "vouch",
            "attestation": {"type": "digital_attestation"},
            "voucher": voucher,
            "time": document.get("time"),
        }
    return {
        "type": "document",
        "check_details": [{"check_method": "data"}] if "authority_confirmed" in entry["checks"] else [],
        "document_details": {
            "type": DOCUMENT_TYPES[entry["kind"]],
            "document_number": document.get("documentNumber") or document.get("personalNumber"),
            "expiry_date": document["expiryDate"],
            "issuer": {"country_code": "GBR"},
        },
    }


def verified_claims(record: IdentityRecord, level: str, request: Any) -> dict[str, Any]:
    """OIDC for Identity Assurance 1.0: the verification behind the identity, and the claims asked
    for inside ``verified_claims.claims`` (every one we hold when none are named)."""
    person = claimed_person(record)
    assert person is not None and record.completed_at is not None
    held: dict[str, Any] = {
        "given_name": person.given_names,
        "family_name": person.family_name,
        "birthdate": person.birth_date.isoformat(),
    }
    if record.addresses:
        first = record.addresses[0]
        held["address"] = {
            "street_address": f"{first['building']} {first['street']}",
            "locality": first["town"],
            "postal_code": first["postcode"],
            "country": "GB",
        }
    asked = request.get("claims") if isinstance(request, dict) else None
    claims = {k: v for k, v in held.items() if not isinstance(asked, dict) or not asked or k in asked}
    evidence = [_evidence(e) for e in evidence_about_claimed(record) if e["counts"]]
    if record.questions and record.verification:  # knowledge-based questions were answered
        evidence.append({"type": "electronic_record", "check_details": [{"check_method": "kbv"}]})
    return {
        "verification": {
            "trust_framework": "uk_diatf",
            "assurance_level": level,
            "assurance_process": {"policy": "gpg45", "procedure": record.profile},
            "time": record.completed_at.isoformat(),
            "evidence": evidence,
        },
        "claims": claims,
    }


# Our return codes (One Login leaves their letters to each integration): why an identity was not reached.
RETURN_CODES = {
    "N": "no identity check was completed",
    "D": "a document could not be confirmed by its issuer",
    "F": "a fraud check did not pass, or a document was reported lost, stolen or cancelled",
    "V": "the knowledge-based questions were not answered well enough",
    "A": "not enough activity history was found",
}


def return_codes(record: IdentityRecord | None, reached: bool) -> list[dict[str, str]]:
    """The codes for the latest attempt: empty when the level asked for was reached."""
    if reached:
        return []
    if record is None:
        return [{"code": "N"}]
    codes = []
    if any(e["kind"] != "vouch" and (not e["counts"] or e["validity"] == 0) for e in record.evidence):
        codes.append("D")
    if record.fraud == 0:
        codes.append("F")
    if record.questions and record.verification < 2:
        codes.append("V")
    if record.activity == 0:
        codes.append("A")
    return [{"code": c} for c in codes or ["N"]]


def identity_values(ctx: OidcContext, grant: Grant, sub: str, requested: dict[str, Any]) -> dict[str, Any]:
    """The identity claims asked for (name → request spec) that this grant may release now."""
    wanted = set(requested) & {CORE_IDENTITY, ADDRESS, PASSPORT, DRIVING_PERMIT, VERIFIED_CLAIMS, RETURN_CODE}
    if not wanted:
        return {}
    now = ctx.clock()
    out: dict[str, Any] = {}
    if RETURN_CODE in wanted:
        attempts = [r for r in records(ctx.db, grant.account_id) if r.completed_at is not None]
        out[RETURN_CODE] = return_codes(attempts[-1] if attempts else None, grant.identity_vot is not None)
    if grant.identity_vot is None:
        return out
    record = current(ctx.db, grant.account_id, now.date())
    if record is None or LEVELS.index(record.level) < LEVELS.index(grant.identity_vot):
        return out
    level = grant.identity_vot
    if CORE_IDENTITY in wanted:
        claims = core_identity_claims(
            record,
            issuer=ctx.settings.issuer,
            client_id=grant.client_id,
            sub=sub,
            level=level,
            vtm=ctx.settings.vtm,
            now=now,
        )
        out[CORE_IDENTITY] = ctx.signer.sign(
            claims, alg="ES256", kid_prefix=did_for(ctx.settings.issuer) + "#"
        )
    if ADDRESS in wanted and record.addresses:
        out[ADDRESS] = address_claim(record)
    for name, kind in ((PASSPORT, "uk_passport"), (DRIVING_PERMIT, "uk_driving_licence")):
        documents = _documents(record, kind)
        if name in wanted and documents:
            out[name] = documents
    if VERIFIED_CLAIMS in wanted:
        out[VERIFIED_CLAIMS] = verified_claims(record, level, requested[VERIFIED_CLAIMS])
    return out
