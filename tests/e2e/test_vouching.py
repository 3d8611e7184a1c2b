"""Social vouching over HTTP: an applicant without photo ID asks two proven people to vouch, both do,
cooling-off passes on a controllable clock, the applicant reaches P1 and a relying service receives
the identity; then one voucher's identity is revoked, the service is told, and the level drops."""

from __future__ import annotations

import os
from datetime import date, timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.jws import JWSRegistry
from sqlalchemy import select

from broker.policy.claims import CORE_IDENTITY, VERIFIED_CLAIMS
from broker.policy.security_events import ASSURANCE_LEVEL_CHANGE
from broker.store.models import Account, Vouch
from tests.e2e.agent import UserAgent, latest_code
from tests.e2e.authenticator import SoftAuthenticator
from tests.e2e.rp import claims_param
from tests.e2e.test_identity import verify_core_identity
from tests.e2e.test_passkeys import add_passkey, passkey_sign_in
from tests.e2e.vouchers import VOUCH_FORM, applicant_form, broker_command, invitation_link, proven_person

P1 = '["Cl.Cm.P1"]'


def sign_in(agent: UserAgent, start: str, email: str) -> str:
    here = agent.go(start)
    assert urlsplit(here).path.startswith("/sign-in/"), here
    here = agent.submit(here, {"email": email, "password": "correct horse battery staple"})
    return agent.submit(here, {"code": latest_code(agent.broker, email)})


def vouch(broker, email: str, link: str, **changes: str) -> str:
    agent = UserAgent(broker)
    try:
        here = sign_in(agent, link, email)  # the link sends them to sign in, and back
        assert here == link, here
        agent.submit(link, {**VOUCH_FORM, **changes})
        return agent.last_page
    finally:
        agent.close()


@pytest.fixture
def two_vouchers(broker):
    return (
        proven_person(broker, "Priya", "Shah", date(1975, 2, 3), "CF11 9AB"),
        proven_person(broker, "Owen", "Evans", date(1968, 7, 9), "CF14 3BB"),
    )


def ask_for_vouches(broker, agent, rp, applicant: str, vouchers: tuple[str, ...]) -> None:
    url = rp.authorization_url(
        vtr=P1, claims=claims_param(userinfo={CORE_IDENTITY: None, VERIFIED_CLAIMS: None})
    )
    here = sign_in(agent, url, applicant)
    assert urlsplit(here).path.startswith("/identity/prove/"), here
    here = agent.submit(here, {"document": "none"})
    assert "Ask people to vouch for you" in agent.last_page
    interaction = urlsplit(here).query.removeprefix("for=")
    here = agent.submit(f"{broker.url}/identity/vouching/start/{interaction}", applicant_form())
    assert here.endswith("/identity/vouching/invite")
    here = agent.submit(here, {f"email{i + 1}": v for i, v in enumerate(vouchers)})
    assert here.endswith("/identity/vouching") and "0 of 2 people have vouched for you" in agent.last_page


def test_two_vouches_prove_p1_and_revoking_a_voucher_drops_it(clock, make_rp, agent, receiver):
    broker = clock
    broker.travel(-timedelta(days=8))  # the vouching happens a week ago; tokens are checked at today's time
    two_vouchers = (
        proven_person(broker, "Priya", "Shah", date(1975, 2, 3), "CF11 9AB"),
        proven_person(broker, "Owen", "Evans", date(1968, 7, 9), "CF14 3BB"),
    )
    rp = make_rp(
        claims=["email", CORE_IDENTITY, VERIFIED_CLAIMS],
        backchannel_logout_uri=receiver.endpoint,
        security_event_uri=receiver.events_endpoint,
    )
    applicant = f"sam-{os.urandom(4).hex()}@example.org"
    broker.create_account(applicant)
    ask_for_vouches(broker, agent, rp, applicant, two_vouchers)

    for voucher in two_vouchers:
        page = vouch(broker, voucher, invitation_link(broker, voucher))
        assert "Thank you for vouching" in page and "takes effect on" in page
    agent.go(f"{broker.url}/identity/vouching")
    assert "2 of 2 people have vouched for you" in agent.last_page and "P1" not in agent.last_page

    broker.offset[0] = timedelta(0)  # back to today: cooling-off has passed, and sessions have ended
    url = rp.authorization_url(
        vtr=P1, claims=claims_param(userinfo={CORE_IDENTITY: None, VERIFIED_CLAIMS: None})
    )
    here = sign_in(agent, url, applicant)
    assert urlsplit(here).path.startswith("/consent/"), here  # P1 already held: no proving pages
    callback = agent.authorize(here)
    token = rp.redeem(callback)
    info = rp.userinfo(token["access_token"]).json()
    core = verify_core_identity(rp, info[CORE_IDENTITY])
    assert core["vot"] == "P1"
    assert core["vc"]["credentialSubject"]["birthDate"] == [{"value": "1990-05-01"}]
    verification = info[VERIFIED_CLAIMS]["verification"]
    assert verification["trust_framework"] == "uk_diatf"
    assert verification["assurance_process"] == {"policy": "gpg45", "procedure": "L1A"}
    assert sorted(e["voucher"]["name"] for e in verification["evidence"]) == ["Owen Evans", "Priya Shah"]
    assert all(e["type"] == "vouch" and e["time"] for e in verification["evidence"])

    before_logouts, before_events = len(receiver.tokens), len(receiver.events)
    revoked = broker_command(
        broker, "identities", "revoke", "--email", two_vouchers[0], "--reason", "found false"
    )
    assert revoked.returncode == 0, revoked.stderr
    assert '"rescored": 1' in revoked.stdout

    event = receiver.wait_for_events(before_events + 1)[before_events]
    decoded = jwt.decode(event, rp.jwks(), registry=JWSRegistry(algorithms=["ES256"]))
    assert decoded.header["typ"] == "secevent+jwt"
    change = decoded.claims["events"][ASSURANCE_LEVEL_CHANGE]
    assert (change["previous_level"], change["current_level"], change["change_direction"]) == (
        "P1",
        "P0",
        "decrease",
    )
    assert decoded.claims["sub_id"]["sub"] == token["id_claims"]["sub"]
    logout = receiver.wait_for(before_logouts + 1)[before_logouts]
    assert (
        jwt.decode(logout, rp.jwks(), registry=JWSRegistry(algorithms=["ES256"])).claims["sub"]
        == token["id_claims"]["sub"]
    )

    assert rp.userinfo(token["access_token"]).status_code == 401  # the grant that carried P1 is gone
    agent.go(f"{broker.url}/account/identity")
    assert "You have not proved your identity yet" in agent.last_page
    received = agent.last_page.split("Vouches for you", 1)[1]  # who vouched, and how each vouch stands
    assert all(voucher in received for voucher in two_vouchers) and "Vouched" in received


def test_a_voucher_without_a_proven_identity_is_refused(broker, make_rp, agent, two_vouchers, person):
    rp = make_rp(claims=["email", CORE_IDENTITY, VERIFIED_CLAIMS])
    applicant = f"sam-{os.urandom(4).hex()}@example.org"
    broker.create_account(applicant)
    ask_for_vouches(broker, agent, rp, applicant, (person, two_vouchers[0]))
    page = vouch(broker, person, invitation_link(broker, person))
    assert "You cannot vouch for them" in page and "below P2" in page


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"known_years": "1"}, "at least 2 years"),
        ({"relationship": "relative"}, "relative or partner cannot vouch"),
        ({"lives_with": "yes"}, "lives at the applicant"),
    ],
)
def test_vouches_against_the_rules_are_refused(broker, make_rp, agent, two_vouchers, changes, reason):
    rp = make_rp(claims=["email", CORE_IDENTITY, VERIFIED_CLAIMS])
    applicant = f"sam-{os.urandom(4).hex()}@example.org"
    broker.create_account(applicant)
    ask_for_vouches(broker, agent, rp, applicant, two_vouchers)
    page = vouch(broker, two_vouchers[0], invitation_link(broker, two_vouchers[0]), **changes)
    assert "You cannot vouch for them" in page and reason in page


def test_the_declaration_is_required_and_shown_as_errors(broker, make_rp, agent, two_vouchers):
    rp = make_rp(claims=["email", CORE_IDENTITY, VERIFIED_CLAIMS])
    applicant = f"sam-{os.urandom(4).hex()}@example.org"
    broker.create_account(applicant)
    ask_for_vouches(broker, agent, rp, applicant, two_vouchers)
    voucher = UserAgent(broker)
    link = invitation_link(broker, two_vouchers[0])
    sign_in(voucher, link, two_vouchers[0])
    voucher.submit(link, {"decision": "vouch"})
    assert voucher.last_status == 400
    for message in ("Select how you know them", "Confirm that you understand what vouching means"):
        assert message in voucher.last_page
    voucher.close()


def test_an_invitation_link_works_once_and_only_with_its_secret(broker, make_rp, agent, two_vouchers):
    rp = make_rp(claims=["email", CORE_IDENTITY, VERIFIED_CLAIMS])
    applicant = f"sam-{os.urandom(4).hex()}@example.org"
    broker.create_account(applicant)
    ask_for_vouches(broker, agent, rp, applicant, two_vouchers)
    link = invitation_link(broker, two_vouchers[0])
    voucher = UserAgent(broker)
    sign_in(voucher, link, two_vouchers[0])
    voucher.submit(link, {"decision": "decline"})
    assert "You have said no" in voucher.last_page
    voucher.go(link)
    assert voucher.last_status == 410
    voucher.go(link[:-3] + "xyz")
    assert voucher.last_status == 404
    voucher.close()


def test_an_invitation_is_answered_only_from_the_account_it_was_sent_to(
    broker, make_rp, agent, two_vouchers, person
):
    """Whoever holds the link, signed in as another account (even a proven one), can neither see the
    request, vouch nor decline; the person it was sent to still can."""
    rp = make_rp(claims=["email", CORE_IDENTITY, VERIFIED_CLAIMS])
    applicant = f"sam-{os.urandom(4).hex()}@example.org"
    broker.create_account(applicant)
    ask_for_vouches(broker, agent, rp, applicant, two_vouchers)
    link = invitation_link(broker, two_vouchers[0])
    for holder in (person, two_vouchers[1]):
        other = UserAgent(broker)
        sign_in(other, link, holder)
        assert other.last_status == 403, other.last_page[:300]
        assert "This invitation was sent to someone else" in other.last_page
        assert "sign in with the account for that email address" in other.last_page
        assert "Sam Taylor" not in other.last_page
        for decision in ("vouch", "decline"):
            assert other.post(link, {**VOUCH_FORM, "decision": decision}).status_code == 403
        other.close()
    with broker.db() as db:
        assert db.scalar(select(Vouch).filter_by(invited_email=two_vouchers[0])).voucher_id is None
    page = vouch(broker, two_vouchers[0], link)
    assert "Thank you for vouching" in page


def test_cancelling_withdraws_the_request(broker, make_rp, agent, two_vouchers):
    rp = make_rp(claims=["email", CORE_IDENTITY, VERIFIED_CLAIMS])
    applicant = f"sam-{os.urandom(4).hex()}@example.org"
    broker.create_account(applicant)
    ask_for_vouches(broker, agent, rp, applicant, two_vouchers)
    agent.submit(f"{broker.url}/identity/vouching/cancel", {})
    link = invitation_link(broker, two_vouchers[0])
    voucher = UserAgent(broker)
    sign_in(voucher, link, two_vouchers[0])  # a voucher signs in before seeing any request to vouch
    assert voucher.last_status == 410 and "cancelled" in voucher.last_page
    voucher.close()
    with broker.db() as db:
        account = db.scalar(select(Account).filter_by(email=applicant))
        assert all(v.withdrawn_at for v in db.scalars(select(Vouch).filter_by(applicant_id=account.id)))


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "/ok:x"])
def test_after_sign_in_the_broker_only_returns_to_its_own_pages(broker, person, target):
    agent = UserAgent(broker)
    here = sign_in(agent, f"{broker.url}/account/sign-in?{urlencode({'next': target})}", person)
    assert urlsplit(here).netloc == urlsplit(broker.url).netloc and urlsplit(here).path == "/account"
    agent.close()


def _flagged_vouch(broker) -> tuple[str, str]:
    """A closes a cycle A -> B -> C -> A: C's vouch for A is held for review. Returns (vouch id, C)."""
    from broker.deps import vouching_service
    from broker.store.db import transaction
    from vouching.person import Address, ClaimedPerson
    from vouching.rules import Statement

    people = [
        proven_person(broker, name, "Cycle", date(1980, 1, n + 1), f"CF{70 + n} 1AA")
        for n, name in enumerate(("Ann", "Ben", "Cat"))
    ]
    ids = []
    with broker.db() as db:
        ids = [db.scalar(select(Account.id).filter_by(email=e)) for e in people]
    held = ""
    for a, v in ((1, 0), (2, 1), (0, 2)):
        applicant, voucher = ids[a], ids[v]
        with transaction(broker.db) as db:
            service = vouching_service(db, broker.services)
            account = db.get(Account, applicant)
            request = service.start(
                account,
                ClaimedPerson("X", "Cycle", date(1980, 1, 1)),
                Address("5", "Road", "Town", "CF79 1AA", date(2015, 1, 1)),
                None,
            )
            [invitation, _] = service.invite(request, account, [people[v], "two@example.org"])
            refusals = service.answer(
                invitation.vouch, db.get(Account, voucher), Statement("friend", 5, False)
            )
            held = invitation.vouch.id
    assert [r.rule for r in refusals] == ["no_cycle"]
    return held, people[2]


def test_a_reviewer_decides_a_vouch_the_graph_checks_held(broker, agent, person, make_rp):
    held, _ = _flagged_vouch(broker)
    password_only = UserAgent(broker)
    sign_in(password_only, f"{broker.url}/admin/vouches", person)
    assert password_only.last_status == 403  # not a reviewer yet
    granted = broker_command(broker, "staff", "grant", "--email", person, "--role", "vouch_reviewer")
    assert granted.returncode == 0, granted.stderr
    # Like every admin page: sent to the page that says to sign in with a passkey.
    assert urlsplit(password_only.go(f"{broker.url}/admin/vouches")).path == "/admin/passkey"
    assert password_only.last_status == 200 and "passkey" in password_only.last_page
    assert (
        password_only.post(
            f"{broker.url}/admin/vouches/{held}", {"decision": "accept", "note": "x"}
        ).status_code
        == 403
    )
    authenticator = SoftAuthenticator(broker.url)
    assert add_passkey(password_only, authenticator, "Reviewer key").status_code == 200
    password_only.close()
    reviewer_agent, answer = passkey_sign_in(broker, make_rp(), authenticator, authenticator.credentials[0])
    reviewer_agent.authorize(answer.json()["location"])
    reviewer_agent.go(f"{broker.url}/admin/vouches")
    assert reviewer_agent.last_status == 200 and "this vouch would close a cycle" in reviewer_agent.last_page
    reviewer_agent.submit(f"{broker.url}/admin/vouches/{held}", {"decision": "refuse"})
    assert reviewer_agent.last_status == 400 and "write a note" in reviewer_agent.last_page
    reviewer_agent.submit(f"{broker.url}/admin/vouches/{held}", {"decision": "refuse", "note": "a ring"})
    assert "There are no vouches waiting for review" in reviewer_agent.last_page
    with broker.db() as db:
        vouch = db.get(Vouch, held)
        assert vouch.refused_at is not None and vouch.review_note == "a ring"
    reviewer_agent.close()


def test_a_reviewer_cannot_decide_a_vouch_they_gave(broker):
    held, voucher = _flagged_vouch(broker)  # the voucher's own vouch, held for review
    from broker.store.db import transaction
    from broker.store.models.sessions import BrowserSession

    agent = UserAgent(broker)
    sign_in(agent, f"{broker.url}/account/sign-in?next=/admin/vouches", voucher)
    with transaction(broker.db) as db:
        account = db.scalar(select(Account).filter_by(email=voucher))
        account.roles = ["vouch_reviewer"]
        for session in db.scalars(select(BrowserSession).filter_by(account_id=account.id)):
            session.amr = [*session.amr, "hwk"]  # as if signed in with a passkey, like every reviewer
    page = agent.post(f"{broker.url}/admin/vouches/{held}", {"decision": "accept", "note": "I know her"})
    assert page.status_code == 400
    assert "govuk-error-summary" in page.text
    assert "You gave or received this vouch: another reviewer must decide it." in page.text
    with broker.db() as db:
        vouch = db.get(Vouch, held)
        assert (vouch.reviewed_by, vouch.review_note, vouch.refused_at) == (None, None, None)
    agent.close()
