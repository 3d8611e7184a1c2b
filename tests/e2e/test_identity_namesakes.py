"""Vouching for someone a document already proved, over HTTP. An applicant without photo ID asks two
proper vouchers to vouch that they are a person whose identity a passport proved on another account.
Names and birth dates coincide, so this is neither accepted nor refused: the vouches wait for a
reviewer, who decides; also when the passport proof comes during the vouches' cooling-off, and when it
comes after the vouches gave the identity, which then no longer stands until a reviewer accepts them."""

from __future__ import annotations

import os
import secrets
import string
from datetime import date, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from broker.policy.claims import CORE_IDENTITY
from broker.store.models import Account, AuditEvent, OutboxMessage, Vouch
from tests.e2e.agent import UserAgent
from tests.e2e.authenticator import SoftAuthenticator
from tests.e2e.identity import KnownPerson
from tests.e2e.rp import claims_param
from tests.e2e.test_identity import P2, prove_with_passport, sign_in_to_proving
from tests.e2e.test_passkeys import add_passkey, passkey_sign_in
from tests.e2e.test_vouching import P1, sign_in, vouch
from tests.e2e.vouchers import applicant_form, broker_command, invitation_link, proven_person

HELD = "someone with this name and date of birth has already proved their identity with a document"


def somebody() -> tuple[str, str, date]:
    """A person nobody else in the run is: names are compared by their letters, so random letters."""
    letters = "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
    return "Robin", letters.capitalize(), date(1960, 1, 1) + timedelta(days=secrets.randbelow(9000))


def ask_to_be(broker, agent: UserAgent, rp, applicant: str, vouchers: tuple[str, ...], who) -> None:  # type: ignore[no-untyped-def]
    """The applicant asks these vouchers to vouch that they are ``who`` (given, family, birth date)."""
    given, family, born = who
    here = sign_in(
        agent, rp.authorization_url(vtr=P1, claims=claims_param(userinfo={CORE_IDENTITY: None})), applicant
    )
    here = agent.submit(here, {"document": "none"})
    interaction = urlsplit(here).query.removeprefix("for=")
    form = {
        **applicant_form(),
        "given_names": given,
        "family_name": family,
        "birth_date-day": str(born.day),
        "birth_date-month": str(born.month),
        "birth_date-year": str(born.year),
    }
    here = agent.submit(f"{broker.url}/identity/vouching/start/{interaction}", form)
    here = agent.submit(here, {f"email{i + 1}": v for i, v in enumerate(vouchers)})
    assert here.endswith("/identity/vouching"), agent.last_page[:500]


def two_vouchers(broker) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return (
        proven_person(broker, "Priya", "Shah", date(1975, 2, 3), "CF11 9AB"),
        proven_person(broker, "Owen", "Evans", date(1968, 7, 9), "CF14 3BB"),
    )


def a_reviewer(broker, make_rp, email: str) -> UserAgent:  # type: ignore[no-untyped-def]
    """A vouch reviewer, signed in with a passkey as every member of staff is."""
    granted = broker_command(broker, "staff", "grant", "--email", email, "--role", "vouch_reviewer")
    assert granted.returncode == 0, granted.stderr
    with_password = UserAgent(broker)
    sign_in(with_password, f"{broker.url}/account/sign-in?next=/account/security", email)
    authenticator = SoftAuthenticator(broker.url)
    assert add_passkey(with_password, authenticator, "Reviewer key").status_code == 200
    with_password.close()
    reviewer, answer = passkey_sign_in(broker, make_rp(), authenticator, authenticator.credentials[0])
    reviewer.authorize(answer.json()["location"])
    return reviewer


def progress(broker, agent: UserAgent, applicant: str) -> str:  # type: ignore[no-untyped-def]
    """The applicant's progress page, signing in again when the session has ended."""
    here = agent.go(f"{broker.url}/identity/vouching")
    if not here.endswith("/identity/vouching"):
        sign_in(agent, f"{broker.url}/account/sign-in?next=/identity/vouching", applicant)
    return agent.last_page


def vouched_a_week_ago(broker, make_rp, agent: UserAgent) -> tuple[tuple[str, str, date], str]:  # type: ignore[no-untyped-def]
    """A week ago, two proven people vouched for a new applicant that they are somebody nobody else is;
    the broker's clock stays a week back. Returns (who, the applicant's email)."""
    broker.travel(-timedelta(days=8))
    who = somebody()
    vouchers = two_vouchers(broker)
    applicant = f"applicant-{os.urandom(4).hex()}@example.org"
    broker.create_account(applicant)
    ask_to_be(broker, agent, make_rp(claims=["email", CORE_IDENTITY]), applicant, vouchers, who)
    for voucher in vouchers:
        assert "Thank you for vouching" in vouch(broker, voucher, invitation_link(broker, voucher))
    return who, applicant


def test_vouches_naming_someone_a_passport_proved_wait_for_a_reviewer(clock, make_rp, agent, person):
    broker = clock
    broker.travel(-timedelta(days=8))
    who = somebody()
    proven_person(broker, who[0], who[1], who[2], "CF24 0AA")  # their passport proved them elsewhere
    vouchers = two_vouchers(broker)
    applicant = f"applicant-{os.urandom(4).hex()}@example.org"
    broker.create_account(applicant)
    ask_to_be(broker, agent, make_rp(claims=["email", CORE_IDENTITY]), applicant, vouchers, who)

    for voucher in vouchers:
        page = vouch(broker, voucher, invitation_link(broker, voucher))
        assert "We need to check your vouch" in page and "You cannot vouch" not in page
    page = progress(broker, agent, applicant)
    assert page.count("Being checked by our team") == 2 and "You have proved your identity" not in page

    reviewer = a_reviewer(broker, make_rp, person)
    with broker.db() as db:
        applicant_id = db.scalar(select(Account.id).filter_by(email=applicant))
        held = db.scalars(
            select(Vouch.id).where(Vouch.applicant_id == applicant_id, Vouch.voucher_id.is_not(None))
        ).all()
    reviewer.go(f"{broker.url}/admin/vouches")
    for vouch_id in held:  # each shown with who it is for and why it is held
        shown = reviewer.last_page.split(f'action="/admin/vouches/{vouch_id}"')[0].rsplit("<h2", 1)[-1]
        assert f"Vouch for Robin {who[1]}" in shown and HELD in shown
    for vouch_id in held:
        reviewer.submit(f"{broker.url}/admin/vouches/{vouch_id}", {"decision": "accept", "note": "met them"})
        assert reviewer.last_status == 200 and vouch_id not in reviewer.last_page
    reviewer.close()

    broker.offset[0] = timedelta(0)  # a week on: cooling-off after the review has passed
    page = progress(broker, agent, applicant)
    assert "You have proved your identity" in page and "checked to a low level" in page


def test_a_passport_proof_during_cooling_off_sends_the_vouches_to_a_reviewer(clock, make_rp, agent):
    broker = clock
    who, applicant = vouched_a_week_ago(broker, make_rp, agent)

    proven_person(broker, who[0], who[1], who[2], "CF24 0AA")  # then their passport proves them
    broker.offset[0] = timedelta(0)
    page = progress(broker, agent, applicant)
    assert page.count("Being checked by our team") == 2 and "You have proved your identity" not in page
    agent.submit(f"{broker.url}/identity/vouching/cancel", {})  # the applicant may still give up
    with broker.db() as db:
        applicant_id = db.scalar(select(Account.id).filter_by(email=applicant))
        given = db.scalars(
            select(Vouch).where(Vouch.applicant_id == applicant_id, Vouch.voucher_id.is_not(None))
        )
        assert [v.withdrawn_reason for v in given] == ["the applicant cancelled"] * 2  # no longer for review


def test_a_passport_proof_after_vouches_gave_the_identity_reopens_it(clock, make_rp, agent, person):
    broker = clock
    who, applicant = vouched_a_week_ago(broker, make_rp, agent)
    broker.offset[0] = timedelta(0)
    page = progress(broker, agent, applicant)
    assert "You have proved your identity" in page and "checked to a low level" in page

    # Then the person themselves proves it with their passport, on the identity pages.
    proven = f"namesake-{os.urandom(4).hex()}@example.org"
    broker.create_account(proven)
    namesake = KnownPerson(given_names=who[0], family_name=who[1], birth_date=who[2]).register(broker)
    theirs = UserAgent(broker)
    url = make_rp(claims=["email", CORE_IDENTITY]).authorization_url(
        vtr=P2, claims=claims_param(userinfo={CORE_IDENTITY: None})
    )
    prove_with_passport(theirs, sign_in_to_proving(theirs, url, proven), namesake)
    assert "You have proved your identity" in theirs.last_page
    theirs.close()
    page = progress(broker, agent, applicant)
    assert page.count("Being checked by our team") == 2 and "You have proved your identity" not in page
    with broker.db() as db:
        applicant_id, proven_id = (
            db.scalar(select(Account.id).filter_by(email=e)) for e in (applicant, proven)
        )
        assert db.scalar(select(Account.identity_level).filter_by(id=applicant_id)) == "P0"
        assert db.scalar(select(Account.identity_level).filter_by(id=proven_id)) == "P2"  # theirs stands
        held = db.scalars(
            select(Vouch.id).where(Vouch.applicant_id == applicant_id, Vouch.voucher_id.is_not(None))
        ).all()
        flagged = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "vouch.flagged", AuditEvent.subject == applicant_id)
        ).all()
        assert [(e.actor, e.details["proven_accounts"]) for e in flagged] == [("system", [proven_id])] * 2
        told = db.scalars(
            select(OutboxMessage).where(
                OutboxMessage.recipient == applicant, OutboxMessage.template == "identity_dropped"
            )
        ).all()
        assert [m.personalisation["link"] for m in told] == [f"{broker.url}/account/identity"]

    # The applicant's own data shows their vouches held, never whose document proved the namesake.
    download = agent.http.get(f"{broker.url}/account/data.json")
    assert download.status_code == 200 and "vouch.flagged" in download.text
    assert proven_id not in download.text

    reviewer = a_reviewer(broker, make_rp, person)
    for vouch_id in held:
        reviewer.submit(
            f"{broker.url}/admin/vouches/{vouch_id}", {"decision": "accept", "note": "two people"}
        )
        assert reviewer.last_status == 200 and vouch_id not in reviewer.last_page
    reviewer.close()
    page = progress(broker, agent, applicant)  # restored at once: the vouches had served their cooling-off
    assert "You have proved your identity" in page and "checked to a low level" in page
