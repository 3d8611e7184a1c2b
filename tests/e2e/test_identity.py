"""Identity proofing over HTTP: a relying service asks for Cl.Cm.P2, the person proves who they are
with a document, and the service verifies the core identity JWT with the key published at did.json."""

from __future__ import annotations

import json
import re
import secrets
from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
from jwt.api_jwk import PyJWK
from sqlalchemy import select

from broker.identity.service import level as identity_level
from broker.policy.claims import CORE_IDENTITY, RETURN_CODE, VERIFIED_CLAIMS, VOCAB
from broker.store.db import transaction
from broker.store.models import Account, AuditEvent, IdentityRecord
from tests.e2e.agent import Callback, UserAgent, latest_code
from tests.e2e.identity import ADDRESS_FORM, RIGHT_ANSWERS, KnownPerson
from tests.e2e.rp import claims_param

ADDRESS, PASSPORT, DRIVING_PERMIT = VOCAB + "address", VOCAB + "passport", VOCAB + "drivingPermit"
IDENTITY_CLAIMS = ["email", CORE_IDENTITY, ADDRESS, PASSPORT, DRIVING_PERMIT, VERIFIED_CLAIMS]
P2 = '["Cl.Cm.P2"]'


@pytest.fixture
def identity_rp(make_rp):
    return make_rp(claims=IDENTITY_CLAIMS)


def ask_for_identity(rp, *names: str, vtr: str = P2) -> str:
    wanted = names or (CORE_IDENTITY,)
    return rp.authorization_url(vtr=vtr, claims=claims_param(userinfo={n: None for n in wanted}))


def sign_in_to_proving(agent, url: str, email: str) -> str:
    """Open the request, sign in with password and email code; returns the page reached."""
    here = agent.go(url)
    here = agent.submit(here, {"email": email, "password": "correct horse battery staple"})
    here = agent.submit(here, {"code": latest_code(agent.broker, email)})
    assert urlsplit(here).path.startswith("/identity/prove/"), here
    return here


def prove_with_passport(agent, start: str, known: KnownPerson) -> str:
    here = agent.submit(start, {"document": "passport"})
    assert here.endswith("/identity/passport")
    here = agent.submit(here, known.passport_form())
    assert here.endswith("/identity/address"), agent.last_page[:500]
    here = agent.submit(here, ADDRESS_FORM)
    assert here.endswith("/identity/questions")
    return agent.submit(here, RIGHT_ANSWERS)


def resume(agent, result_page: str) -> Callback:
    link = re.search(r'href="(/authorize/resume/[^"]+)"', agent.last_page)
    assert link, "the result page links back to the service"
    return agent.authorize(agent.broker.url + link.group(1))


def verify_core_identity(rp, token: str) -> dict:
    """As a relying service does: resolve the did:web key id at /.well-known/did.json, check ES256."""
    header = jwt.get_unverified_header(token)
    did, _, kid = header["kid"].partition("#")
    host = urlsplit(rp.issuer).netloc.replace(":", "%3A")
    assert did == f"did:web:{host}" and header["alg"] == "ES256"
    document = httpx.get(f"{rp.issuer}/.well-known/did.json").json()
    assert document["id"] == did
    method = next(m for m in document["assertionMethod"] if m["id"] == header["kid"])
    key = PyJWK(method["publicKeyJwk"], algorithm="ES256")
    assert method["publicKeyJwk"]["kid"] == kid
    return jwt.decode(token, key.key, algorithms=["ES256"], audience=rp.client_id, issuer=rp.issuer)


def test_passport_proves_p2_and_the_service_verifies_the_identity(broker, identity_rp, person, agent):
    known = KnownPerson().register(broker)
    url = ask_for_identity(identity_rp, CORE_IDENTITY, ADDRESS, PASSPORT, DRIVING_PERMIT)
    result = prove_with_passport(agent, sign_in_to_proving(agent, url, person), known)
    assert result.endswith("/identity/result") and "You have proved your identity" in agent.last_page
    assert "checked to a medium level" in agent.last_page

    token = identity_rp.redeem(resume(agent, result))
    assert token["id_claims"]["vot"] == "Cl.Cm"  # the ID token's vot is the authentication level
    info = identity_rp.userinfo(token["access_token"]).json()
    core = verify_core_identity(identity_rp, info[CORE_IDENTITY])
    assert core["vot"] == "P2" and core["sub"] == token["id_claims"]["sub"] == info["sub"]
    assert core["exp"] - core["iat"] == 30 * 60
    assert core["vc"]["type"] == ["VerifiableCredential", "VerifiableIdentityCredential"]
    subject = core["vc"]["credentialSubject"]
    assert subject["name"] == [
        {
            "nameParts": [
                {"type": "GivenName", "value": "Jane"},
                {"type": "GivenName", "value": "Elizabeth"},
                {"type": "FamilyName", "value": "Smith"},
            ]
        }
    ]
    assert subject["birthDate"] == [{"value": "1985-03-12"}]
    assert info[ADDRESS] == [
        {
            "buildingNumber": "10",
            "streetName": "Downing Street",
            "addressLocality": "London",
            "postalCode": "SW1A 2AA",
            "addressCountry": "GB",
            "validFrom": "2015-01-01",
        }
    ]
    # The number masked: the broker keeps no more of it once it is checked.
    assert info[PASSPORT] == [
        {
            "documentNumber": "******" + known.passport_number[-3:],
            "expiryDate": "2031-01-01",
            "icaoIssuerCode": "GBR",
        }
    ]
    assert DRIVING_PERMIT not in info  # not the evidence used: nothing to release


def test_a_later_service_gets_the_identity_without_proving_again(broker, make_rp, person, agent):
    known = KnownPerson().register(broker)
    first, second = make_rp(claims=IDENTITY_CLAIMS), make_rp(claims=IDENTITY_CLAIMS)
    result = prove_with_passport(agent, sign_in_to_proving(agent, ask_for_identity(first), person), known)
    first.redeem(resume(agent, result))

    callback = agent.authorize(ask_for_identity(second, VERIFIED_CLAIMS))  # single sign-on, then consent
    info = second.userinfo(second.redeem(callback)["access_token"]).json()
    verified = info[VERIFIED_CLAIMS]
    assert verified["verification"]["trust_framework"] == "uk_diatf"
    assert verified["verification"]["assurance_process"] == {"policy": "gpg45", "procedure": "M1A"}
    assert verified["verification"]["evidence"][0]["document_details"]["type"] == "passport"
    assert verified["claims"]["family_name"] == "Smith" and verified["claims"]["birthdate"] == "1985-03-12"
    assert CORE_IDENTITY not in info  # only what was asked for


def test_driving_licence_with_a_long_history_proves_p2(broker, identity_rp, person, agent):
    known = KnownPerson().register(broker)
    start = sign_in_to_proving(agent, ask_for_identity(identity_rp, CORE_IDENTITY, DRIVING_PERMIT), person)
    here = agent.submit(start, {"document": "driving_licence"})
    here = agent.submit(here, known.licence_form())
    here = agent.submit(here, ADDRESS_FORM)
    result = agent.submit(here, RIGHT_ANSWERS)
    assert "checked to a medium level" in agent.last_page
    info = identity_rp.userinfo(identity_rp.redeem(resume(agent, result))["access_token"]).json()
    assert verify_core_identity(identity_rp, info[CORE_IDENTITY])["vot"] == "P2"
    assert info[DRIVING_PERMIT][0]["personalNumber"] == "*" * 13 + known.licence_number[-3:]


def test_the_document_number_is_kept_nowhere_once_checked(broker, identity_rp, person, agent):
    """Once the passport office has answered, the broker keeps the passport's last three characters
    and its keyed fingerprint, never its number: not in the identity record, not in what services
    receive, not in the person's own data download. (One passport still proves one account only:
    test_a_document_that_proved_another_account_is_refused.)"""
    known = KnownPerson().register(broker)
    url = ask_for_identity(identity_rp, CORE_IDENTITY, PASSPORT, VERIFIED_CLAIMS)
    result = prove_with_passport(agent, sign_in_to_proving(agent, url, person), known)
    info = identity_rp.userinfo(identity_rp.redeem(resume(agent, result))["access_token"]).json()
    masked = "******" + known.passport_number[-3:]
    assert info[PASSPORT][0]["documentNumber"] == masked
    evidence = info[VERIFIED_CLAIMS]["verification"]["evidence"][0]
    assert evidence["document_details"]["document_number"] == masked
    download = agent.http.get(f"{broker.url}/account/data.json")
    assert download.status_code == 200 and masked in download.text
    with broker.db() as db:
        account_id = db.scalar(select(Account.id).filter_by(email=person))
        stored = db.scalars(select(IdentityRecord.evidence).filter_by(account_id=account_id)).all()
    assert stored and all(e.get("fingerprint") for e in stored[-1])
    for kept in (json.dumps(info), download.text, json.dumps(stored)):
        assert known.passport_number not in kept


def test_wrong_answers_reach_less_and_the_service_gets_access_denied(broker, identity_rp, person, agent):
    known = KnownPerson().register(broker)
    start = sign_in_to_proving(agent, ask_for_identity(identity_rp), person)
    here = agent.submit(start, {"document": "passport"})
    here = agent.submit(here, known.passport_form())
    here = agent.submit(here, ADDRESS_FORM)
    result = agent.submit(here, {"answer-bank": "Birch", "answer-loan": "£100"})  # one of two right
    assert "checked to a low level" in agent.last_page  # passport and fraud check still meet L1A
    assert "Answer the security questions" in agent.last_page
    callback = resume(agent, result)
    assert callback.params["error"] == "access_denied"  # never a P1 passed off as P2


def test_a_passport_reported_stolen_proves_nothing(broker, identity_rp, person, agent):
    known = KnownPerson(passport_status="lost_or_stolen").register(broker)
    start = sign_in_to_proving(agent, ask_for_identity(identity_rp), person)
    here = agent.submit(start, {"document": "passport"})
    result = agent.submit(here, known.passport_form())
    assert result.endswith("/identity/result") and "We could not prove your identity" in agent.last_page
    assert "cannot be used" in agent.last_page
    assert resume(agent, result).params["error"] == "access_denied"


def test_details_the_authority_does_not_know_can_be_corrected(broker, identity_rp, person, agent):
    known = KnownPerson().register(broker)
    start = sign_in_to_proving(agent, ask_for_identity(identity_rp), person)
    here = agent.submit(start, {"document": "passport"})
    unknown = KnownPerson(passport_number="999999999")  # well formed, but not on the register
    here = agent.submit(here, unknown.passport_form())
    assert here.endswith("/identity/could-not-check")
    assert "has no record that matches" in agent.last_page and "2 more times" in agent.last_page
    here = agent.submit(broker.url + "/identity/passport", known.passport_form())
    assert here.endswith("/identity/address")


def test_your_own_passport_proves_nothing_about_someone_else(broker, identity_rp, person, agent):
    """Someone's own passport is confirmed; then, in the same attempt, they type another person's
    name and date of birth (with a well-formed passport the authority does not know) and answer that
    person's questions. Only evidence about the person finally claimed counts: nothing is proven."""
    own = KnownPerson(given_names="Mallory", family_name="Jones", birth_date=date(1990, 1, 2)).register(
        broker
    )
    victim = KnownPerson(given_names="Victoria", family_name="Hughes", birth_date=date(1970, 5, 6)).register(
        broker
    )
    start = sign_in_to_proving(agent, ask_for_identity(identity_rp), person)
    here = agent.submit(start, {"document": "passport"})
    assert agent.submit(here, own.passport_form()).endswith("/identity/address")
    forged = KnownPerson(
        given_names=victim.given_names,
        family_name=victim.family_name,
        birth_date=victim.birth_date,
        passport_number="999999999",
    )
    assert agent.submit(broker.url + "/identity/passport", forged.passport_form()).endswith(
        "/identity/could-not-check"
    )
    here = agent.submit(broker.url + "/identity/address", ADDRESS_FORM)
    if here.endswith("/identity/questions"):
        result = agent.submit(here, RIGHT_ANSWERS)  # the victim's answers
    else:
        result = here
    assert "checked to a medium level" not in agent.last_page and "checked to a low level" not in agent.last_page
    assert resume(agent, result).params["error"] == "access_denied"
    with broker.db() as db:
        assert identity_level(db, db.scalar(select(Account.id).filter_by(email=person)), date.today()) == "P0"


@pytest.mark.parametrize("document", ["passport", "driving_licence"])
def test_a_document_that_proved_another_account_is_refused(broker, identity_rp, person, agent, document):
    """One document proves one account: on a second account it is refused on the page, before the
    authority is asked, and the attempt is kept in the audit log. The first account may use it again."""
    known = KnownPerson(
        licence_number=f"SMITH853125JE9{chr(65 + secrets.randbelow(26))}{secrets.randbelow(10)}"
    )
    known = known.register(broker)
    form = known.passport_form() if document == "passport" else known.licence_form()
    start = sign_in_to_proving(agent, ask_for_identity(identity_rp), person)
    here = agent.submit(agent.submit(start, {"document": document}), form)
    assert agent.submit(agent.submit(here, ADDRESS_FORM), RIGHT_ANSWERS).endswith("/identity/result")
    assert "checked to a medium level" in agent.last_page

    second = f"second-{secrets.token_hex(4)}@example.org"
    broker.create_account(second)
    other = UserAgent(broker)
    start = sign_in_to_proving(other, ask_for_identity(identity_rp), second)
    here = other.submit(start, {"document": document})
    refused = other.post(here, form)
    words = "passport" if document == "passport" else "driving licence"
    assert refused.status_code == 400
    assert f"This {words} has already been used to prove an identity on another account" in refused.text
    assert "govuk-error-summary" in refused.text
    other.close()
    with broker.db() as db:
        second_id = db.scalar(select(Account.id).filter_by(email=second))
        assert identity_level(db, second_id, date.today()) == "P0"
        event = db.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "identity.document_reused", AuditEvent.subject == second_id
            )
        )
        first_id = db.scalar(select(Account.id).filter_by(email=person))
        assert event is not None and event.details["proven_account"] == first_id

    agent.submit(broker.url + "/identity/prove", {"document": document})  # the first account, again
    assert agent.submit(
        broker.url + ("/identity/passport" if document == "passport" else "/identity/driving-licence"), form
    ).endswith("/identity/address")


def test_document_look_ups_are_limited_per_account_whatever_the_attempt(broker, identity_rp, person, agent):
    """Starting again does not start the count again: no one can trawl the authorities."""
    sign_in_to_proving(agent, ask_for_identity(identity_rp), person)
    unknown = KnownPerson(passport_number="999999999")
    for look_up in range(9):
        if look_up % 3 == 0:  # three per attempt, then start again
            agent.submit(broker.url + "/identity/prove", {"document": "passport"})
        agent.submit(broker.url + "/identity/passport", unknown.passport_form())
        assert agent.last_status in (200, 303), agent.last_page[:300]
    agent.submit(broker.url + "/identity/prove", {"document": "passport"})
    refused = agent.post(broker.url + "/identity/passport", unknown.passport_form())
    assert refused.status_code == 429 and "checking identity documents is blocked" in refused.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"passport_number": "12345678"}, "Passport number must be 9 digits"),
        ({"given_names": ""}, "Enter your given names as they are on your passport"),
        ({"birth_date-month": ""}, "Date of birth must include a month"),
        ({"birth_date-day": "31", "birth_date-month": "2"}, "Date of birth must be a real date"),
        ({"expiry_date-month": "13"}, "Expiry date must be a real date"),
    ],
)
def test_passport_details_that_do_not_add_up_are_shown_as_errors(
    broker, identity_rp, person, agent, change, message
):
    known = KnownPerson().register(broker)
    start = sign_in_to_proving(agent, ask_for_identity(identity_rp), person)
    here = agent.submit(start, {"document": "passport"})
    agent.submit(here, {**known.passport_form(), **change})
    assert agent.last_status == 400 and "There is a problem" in agent.last_page
    assert message in agent.last_page


def test_every_problem_with_the_passport_details_is_reported_at_once(broker, identity_rp, person, agent):
    known = KnownPerson().register(broker)
    start = sign_in_to_proving(agent, ask_for_identity(identity_rp), person)
    here = agent.submit(start, {"document": "passport"})
    wrong = {
        "passport_number": "12345",
        "family_name": "",
        "given_names": "",
        "birth_date-day": "31",
        "birth_date-month": "2",
        "expiry_date-year": "",
    }
    agent.submit(here, {**known.passport_form(), **wrong})
    assert agent.last_status == 400
    for message in (
        "Passport number must be 9 digits",
        "Enter your surname as it is on your passport",
        "Enter your given names as they are on your passport",
        "Date of birth must be a real date",
        "Expiry date must include a year",
    ):
        assert message in agent.last_page
    links = re.findall(r'<li><a href="#(\w+)"', agent.last_page)
    assert links == ["passport_number", "family_name", "given_names", "birth_date", "expiry_date"]


def test_passport_details_are_checked_only_once_confirmed(broker, identity_rp, person, agent):
    """The answers come back to check, carried in the page (nothing is looked up or kept yet); a
    "Change" goes back to them as typed; confirmed, the passport office is asked."""
    known = KnownPerson().register(broker)
    start = sign_in_to_proving(agent, ask_for_identity(identity_rp), person)
    here = agent.submit(start, {"document": "passport"})
    agent.submit(here, known.passport_form(confirmed=False))
    assert agent.last_status == 200 and "Check your answers" in agent.last_page
    with broker.db() as db:  # nothing is looked up or kept before the answers are confirmed
        account = db.scalars(select(Account).where(Account.email == person)).one()
        attempt = db.scalars(
            select(IdentityRecord).where(
                IdentityRecord.account_id == account.id, IdentityRecord.completed_at.is_(None)
            )
        ).one()
        assert attempt.evidence == []
    assert known.passport_number in agent.last_page and "12 March 1985" in agent.last_page
    agent.submit(here, {**known.passport_form(confirmed=False), "change": "given_names"})
    assert "Enter your passport details" in agent.last_page
    assert f'value="{known.given_names}"' in agent.last_page  # nothing typed is lost
    assert agent.submit(here, known.passport_form()).endswith("/identity/address")


def test_an_expired_passport_is_refused(broker, identity_rp, person, agent):
    known = KnownPerson(passport_expiry=broker.services.clock().date() - timedelta(days=1)).register(broker)
    start = sign_in_to_proving(agent, ask_for_identity(identity_rp), person)
    here = agent.submit(start, {"document": "passport"})
    agent.submit(here, known.passport_form())
    assert agent.last_status == 400 and "Your passport has expired" in agent.last_page


def test_identity_pages_need_a_signed_in_person(broker, agent):
    reached = agent.go(broker.url + "/identity/prove")
    assert urlsplit(reached).path.startswith("/sign-in/")  # sent to sign in, and back afterwards
    response = agent.post(broker.url + "/identity/passport", {})
    assert response.status_code in (400, 401, 403)  # refused for want of a CSRF token or a session


def test_did_document_publishes_the_identity_signing_keys(broker):
    document = httpx.get(f"{broker.url}/.well-known/did.json").json()
    jwks = httpx.get(f"{broker.url}/.well-known/jwks.json").json()
    es256 = {k["kid"] for k in jwks["keys"] if k["alg"] == "ES256"}
    assert {m["publicKeyJwk"]["kid"] for m in document["assertionMethod"]} == es256
    assert all("d" not in m["publicKeyJwk"] for m in document["assertionMethod"])  # public halves only


def test_an_identity_that_no_longer_holds_is_not_released(broker, identity_rp, person, agent):
    known = KnownPerson().register(broker)
    result = prove_with_passport(
        agent, sign_in_to_proving(agent, ask_for_identity(identity_rp), person), known
    )
    token = identity_rp.redeem(resume(agent, result))
    assert CORE_IDENTITY in identity_rp.userinfo(token["access_token"]).json()

    with transaction(broker.db) as db:  # as when the record's re-check date passes, or it is revoked
        account = db.scalar(select(Account).filter_by(email=person))
        for record in db.scalars(select(IdentityRecord).filter_by(account_id=account.id)):
            record.recheck_by = broker.services.clock().date() - timedelta(days=1)
    info = identity_rp.userinfo(token["access_token"]).json()
    assert CORE_IDENTITY not in info and info["sub"] == token["id_claims"]["sub"]


def test_a_service_that_asks_for_return_codes_hears_why_instead_of_access_denied(
    broker, make_rp, person, agent
):
    rp = make_rp(claims=[*IDENTITY_CLAIMS, RETURN_CODE])
    known = KnownPerson(passport_status="lost_or_stolen").register(broker)
    start = sign_in_to_proving(agent, ask_for_identity(rp, CORE_IDENTITY, RETURN_CODE), person)
    here = agent.submit(start, {"document": "passport"})
    result = agent.submit(here, known.passport_form())
    assert "We could not prove your identity" in agent.last_page
    token = rp.redeem(resume(agent, result))  # a sign-in, not an error
    info = rp.userinfo(token["access_token"]).json()
    assert CORE_IDENTITY not in info
    assert [c["code"] for c in info[RETURN_CODE]] == ["D", "F", "A"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"licence_number": ""}, "Enter your licence number"),
        ({"licence_number": "JONES853125JE9AB"}, "does not match your last name"),
        ({"expiry_date-day": ""}, "Valid until date must include a day"),
        ({"issue_date-year": "2099"}, "The issue date is in the future"),
    ],
)
def test_licence_details_that_do_not_add_up_are_shown_as_errors(
    broker, identity_rp, person, agent, change, message
):
    known = KnownPerson().register(broker)
    start = sign_in_to_proving(agent, ask_for_identity(identity_rp), person)
    here = agent.submit(start, {"document": "driving_licence"})
    agent.submit(here, {**known.licence_form(), **change})
    assert agent.last_status == 400 and "There is a problem" in agent.last_page
    assert message in agent.last_page
    assert known.given_names in agent.last_page  # what was typed is kept


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"postcode": "12345"}, "Enter a real UK postcode"),
        ({"street": ""}, "Enter the street"),
        ({"lived_from": "1850"}, "Enter the year you started living there"),
    ],
)
def test_address_that_is_not_complete_is_shown_as_errors(broker, identity_rp, person, agent, change, message):
    known = KnownPerson().register(broker)
    start = sign_in_to_proving(agent, ask_for_identity(identity_rp), person)
    here = agent.submit(start, {"document": "passport"})
    here = agent.submit(here, known.passport_form())
    agent.submit(here, {**ADDRESS_FORM, **change})
    assert agent.last_status == 400 and message in agent.last_page
    assert "Downing Street" in agent.last_page or change == {"street": ""}
