"""The consent receipt states the lawful basis: the Kantara fields kept, the ISO/IEC TS 27560 record
fields added, and a consent type of EXPLICIT only where the agreement rests on consent."""

from __future__ import annotations

import pytest

from broker.policy.consent import consent_type, receipt
from broker.policy.lawful_basis import basis_of
from broker.store.db import transaction
from broker.store.models import Client, Consent
from tests.policy.factories import NOW, a_person
from tests.policy.test_service import service_with_an_agreement

ISSUER = "https://broker.example"


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        ("Consent (UK GDPR Article 6(1)(a))", "EXPLICIT"),
        ("Public task (UK GDPR Article 6(1)(e))", "PUBLIC TASK"),
        ("Legal obligation: the Social Security Administration Act 1992", "LEGAL OBLIGATION"),
        ("Recorded at registration", "NOT CONSENT"),
    ],
)
def test_the_consent_type_is_explicit_only_for_consent(words, kind):
    assert consent_type(basis_of(words)) == kind


def a_receipt(db, lawful_basis: str) -> dict:
    client_id, _mou, version = service_with_an_agreement(db)
    version.lawful_basis = lawful_basis
    version.attributes = [{"claim": "email", "min_level": "P0", "required": True, "retention_days": 90}]
    person = a_person(db)
    consent = Consent(
        account_id=person.id,
        client_id=client_id,
        scopes=["openid", "email"],
        claims=["email"],
        declined=[],
        mou_version_id=version.id,
        method="consent page",
        granted_at=NOW,
    )
    db.add(consent)
    db.flush()
    return receipt(db, consent, db.get(Client, client_id), person, ISSUER)


def test_a_receipt_under_public_task_says_so_and_not_explicit_consent(session_factory):
    with transaction(session_factory) as db:
        made = a_receipt(db, "Public task (UK GDPR Article 6(1)(e))")
    # The Kantara receipt, kept for services that read it.
    assert made["version"] == "KI-CR-v1.1.0" and made["jurisdiction"] == "GB"
    purpose = made["services"][0]["purposes"][0]
    assert purpose["consentType"] == "PUBLIC TASK" and purpose["piiCategory"] == ["email"]
    # The ISO/IEC TS 27560 record.
    record = made["consentRecord"]
    assert record["schemaVersion"] == "ISO/IEC TS 27560:2023"
    assert (record["recordId"], record["piiPrincipalId"]) == (
        made["consentReceiptID"],
        made["piiPrincipalId"],
    )
    assert record["state"] == "given" and record["stateChangedAt"] == NOW.isoformat()
    [processing] = record["processing"]
    assert processing["legalBasis"] == {
        "law": "UK GDPR",
        "article": "Article 6(1)(e)",
        "name": "public task",
        "isConsent": False,
        "description": "Public task (UK GDPR Article 6(1)(e))",
    }
    assert processing["purpose"] == purpose["purpose"] and processing["piiInformation"] == ["email"]
    assert processing["retentionPeriod"] == "P90D" and processing["recipients"] == ["Fishing"]
    assert processing["agreement"] == made["agreement"] and made["agreement"]["version"] == 1


def test_a_receipt_under_consent_is_explicit_consent(session_factory):
    with transaction(session_factory) as db:
        made = a_receipt(db, "Consent (UK GDPR Article 6(1)(a))")
    assert made["services"][0]["purposes"][0]["consentType"] == "EXPLICIT"
    basis = made["consentRecord"]["processing"][0]["legalBasis"]
    assert (basis["article"], basis["isConsent"]) == ("Article 6(1)(a)", True)


def test_a_basis_the_words_do_not_name_is_not_called_consent(session_factory):
    with transaction(session_factory) as db:
        made = a_receipt(db, "Recorded at registration; the approver confirms it before live use")
    assert made["services"][0]["purposes"][0]["consentType"] == "NOT CONSENT"
    basis = made["consentRecord"]["processing"][0]["legalBasis"]
    assert (basis["article"], basis["name"], basis["isConsent"]) == (None, None, False)
