"""Account journeys over HTTP, and the attacks on them: enumeration, code reuse and expiry, CSRF,
open redirects, a reset that must end every session and token."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pyotp
from sqlalchemy import select

from broker.store.db import transaction
from broker.store.models import Account, OutboxMessage
from tests.e2e.agent import PASSWORD, UserAgent, latest_code

NEW_PASSWORD = "velvet otter cabbage lantern"


def _messages(broker, recipient: str) -> list[OutboxMessage]:
    with broker.db() as db:
        return list(
            db.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == recipient)
                .order_by(OutboxMessage.created_at)
            )
        )


def _neutral(page: str, *values: str) -> str:
    """A page with what differs between two browsers (their ids, tokens and addresses) blanked out."""
    page = re.sub(r'name="csrf_token" value="[0-9a-f]+"', 'name="csrf_token" value=""', page)
    for value in values:
        page = page.replace(value, "X")
    return page


def _start(broker, rp, journey: str) -> tuple[UserAgent, str]:
    ua = UserAgent(broker)
    sign_in = ua.go(rp.authorization_url())
    return ua, sign_in.replace("/sign-in/", f"/{journey}/")


def test_create_account_does_not_reveal_an_existing_address(broker, make_rp, person):
    rp = make_rp()
    fresh = f"fresh-{uuid.uuid4().hex[:8]}@example.org"
    pages = []
    for email in (person, fresh):
        ua, url = _start(broker, rp, "create-account")
        response = ua.post(url, {"email": email})
        assert response.status_code == 303
        page = ua.http.get(response.headers["location"])
        pages.append((page.status_code, _neutral(page.text, email, url.rsplit("/", 1)[1])))
        ua.close()
    assert pages[0] == pages[1]
    assert [m.template for m in _messages(broker, person)][-1] == "account_exists"
    assert [m.template for m in _messages(broker, fresh)] == ["verify_email"]


def test_reset_password_does_not_reveal_whether_an_account_exists(broker, make_rp, person):
    rp = make_rp()
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    pages = []
    for email in (person, unknown):
        ua, url = _start(broker, rp, "reset-password")
        response = ua.post(url, {"email": email})
        page = ua.http.get(response.headers["location"])
        pages.append((response.status_code, page.status_code, _neutral(page.text, url.rsplit("/", 1)[1])))
        ua.close()
    assert pages[0] == pages[1]
    assert _messages(broker, unknown) == []


def test_sign_up_code_works_once_and_expires(clock, make_rp):
    broker, rp = clock, make_rp()
    email = f"new-{uuid.uuid4().hex[:8]}@example.org"
    ua, url = _start(broker, rp, "create-account")
    code_page = ua.post(url, {"email": email}).headers["location"]
    code = latest_code(broker, email)
    assert ua.post(code_page, {"code": code}).status_code == 303
    assert ua.post(code_page, {"code": code}).status_code == 400  # used
    ua.post(url, {"email": email})
    broker.travel(timedelta(minutes=16))
    assert ua.post(code_page, {"code": latest_code(broker, email)}).status_code == 400  # expired
    ua.close()


def test_both_email_journeys_answer_a_skipped_or_empty_step(broker, make_rp, person):
    """Create an account and reset a password share their steps: a later step opened too early goes
    back to the start, and an empty code is asked for again, never counted as a wrong one."""
    rp = make_rp()
    for journey in ("create-account", "reset-password"):
        ua, url = _start(broker, rp, journey)
        for early in ("/code", "/password"):
            skipped = ua.http.get(url + early)
            assert skipped.status_code == 303 and skipped.headers["location"] == url
        assert (
            ua.post(url + "/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 303
        )
        response = ua.post(url, {"email": ""})
        assert response.status_code == 400 and "Enter your email address" in response.text
        ua.post(url, {"email": person})
        empty = ua.post(url + "/code", {"code": "  "})
        assert empty.status_code == 400 and "Enter the security code" in empty.text
        assert ua.http.get(url + "/password").headers["location"] == url  # not proven yet
        ua.close()


def test_create_account_with_text_message_codes(broker, make_rp):
    rp = make_rp()
    email = f"sms-{uuid.uuid4().hex[:8]}@example.org"
    ua, url = _start(broker, rp, "create-account")
    here = ua.submit(url, {"email": email})
    here = ua.submit(here, {"code": latest_code(broker, email)})
    here = ua.submit(here, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    here = ua.submit(here, {"method": "sms"})
    assert ua.post(here, {"phone": "not a number"}).status_code == 400
    here = ua.submit(here, {"phone": "07911 123456"})
    here = ua.submit(here, {"code": latest_code(broker, "+447911123456")})
    callback = ua.authorize(here)
    claims = rp.redeem(callback)["id_claims"]
    assert claims["amr"] == ["pwd", "sms"]
    token = rp.redeem(ua.authorize(rp.authorization_url(scope="openid phone", prompt="consent")))
    assert rp.userinfo(token["access_token"]).json()["phone_number"] == "+447911123456"
    ua.close()


def test_forms_without_the_csrf_token_are_refused(broker, make_rp, person):
    rp = make_rp()
    ua = UserAgent(broker)
    here = ua.go(rp.authorization_url())
    for data in (
        {"email": person, "password": PASSWORD},
        {"email": person, "password": PASSWORD, "csrf_token": "f" * 64},
    ):
        response = ua.http.post(here, data=data)
        assert response.status_code == 400 and "Your form could not be sent" in response.text
    assert ua.post(here, {"email": person, "password": PASSWORD}).status_code == 303
    ua.close()


def test_no_open_redirect_through_a_return_parameter(broker, make_rp, person):
    rp = make_rp()
    ua = UserAgent(broker)
    here = ua.go(rp.authorization_url())
    evil = "https://evil.example/steal"
    for param in ("return", "redirect", "next", "return_to"):
        response = ua.post(f"{here}?{param}={evil}", {"email": person, "password": PASSWORD})
        assert not response.headers.get("location", "").startswith(evil)
        done = ua.http.get(f"{broker.url}/logout?post_logout_redirect_uri={evil}")
        assert not done.headers.get("location", "").startswith(evil)
    ua.close()


def test_a_code_from_another_journey_never_passes_as_the_second_factor(broker, make_rp, person):
    """An attacker with the victim's password only: they sign in as the victim (a code goes to the
    victim), then, in the same sign-in, start a password reset (or create an account) for an address
    of their own, and type the code they received there at the victim's second-factor step. Nor
    may that code start the victim's lost-second-factor reset."""
    rp = make_rp()
    attacker = f"attacker-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(attacker)
    for journey, to_address in (("reset-password", attacker), ("create-account", f"new-{attacker}")):
        ua = UserAgent(broker)
        sign_in = ua.go(rp.authorization_url())
        second_factor = ua.submit(sign_in, {"email": person, "password": PASSWORD})
        assert second_factor.endswith("/code")
        ua.post(sign_in.replace("/sign-in/", f"/{journey}/"), {"email": to_address})
        theirs = latest_code(broker, to_address)
        for step in (second_factor, sign_in + "/lost-factor/code"):
            answer = ua.post(step, {"code": theirs})
            assert "/authorize/resume/" not in answer.headers.get("location", ""), (journey, step)
            assert answer.status_code in (303, 400)
            if answer.status_code == 303:  # sent back to sign in: the victim's password no longer counts
                assert answer.headers["location"].endswith(sign_in.rsplit("/", 1)[1])
        assert ua.http.get(f"{broker.url}/account/security").status_code != 200
        ua.close()


def test_password_reset_ends_every_session_and_token(broker, make_rp, person, receiver):
    rp = make_rp(backchannel_logout_uri=receiver.endpoint)
    signed_in = UserAgent(broker)
    token = rp.redeem(signed_in.authorize(rp.authorization_url(scope="openid offline_access"), email=person))
    before = len(receiver.tokens)
    ua, url = _start(broker, rp, "reset-password")
    here = ua.submit(url, {"email": person})
    here = ua.submit(here, {"code": latest_code(broker, person)})
    ua.submit(here, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert "Your password has been changed" in ua.last_page
    assert rp.userinfo(token["access_token"]).status_code == 401
    assert (
        rp.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"]).json()["error"]
        == "invalid_grant"
    )
    assert "/sign-in/" in signed_in.go(rp.authorization_url())
    assert len(receiver.wait_for(before + 1)) > before
    assert [m.template for m in _messages(broker, person)][-1] == "password_changed"
    # The old password no longer works; the new one does.
    fresh = UserAgent(broker)
    page = fresh.go(rp.authorization_url())
    assert fresh.post(page, {"email": person, "password": PASSWORD}).status_code == 400
    assert fresh.post(page, {"email": person, "password": NEW_PASSWORD}).status_code == 303
    for agent in (signed_in, ua, fresh):
        agent.close()


def _audit_actions(broker, account_email: str) -> list[str]:
    from broker.store.models import Account, AuditEvent

    with broker.db() as db:
        account = db.scalars(select(Account).where(Account.email == account_email)).one()
        return list(
            db.scalars(
                select(AuditEvent.action).where(AuditEvent.subject == account.id).order_by(AuditEvent.seq)
            )
        )


def test_a_password_alone_cannot_reach_the_factor_set_up_pages(broker, make_rp, person):
    rp = make_rp()
    ua = UserAgent(broker)
    here = ua.go(rp.authorization_url())
    code_page = ua.post(here, {"email": person, "password": PASSWORD}).headers["location"]
    setup = code_page.replace("/sign-in/", "/create-account/").replace("/code", "/second-factor")
    for method in ("email", "totp", "sms", "passkey"):
        response = ua.post(setup, {"method": method})
        assert response.status_code == 303 and response.headers["location"].endswith(
            setup.rsplit("/", 1)[0].rsplit("/", 1)[1]
        ), (method, response.headers.get("location"))
    assert ua.http.get(setup.replace("/second-factor", "/passkey")).status_code == 303
    assert "broker-session" not in ua.http.cookies
    ua.close()


def _codes_from_an_app(broker, email: str) -> str:
    """``email``'s account gets its codes from an authenticator app (not by email); the app's secret."""
    secret = pyotp.random_base32()
    with transaction(broker.db) as db:
        account = db.scalar(select(Account).filter_by(email=email))
        account.mfa_method, account.totp_secret = "totp", secret
    return secret


def test_lost_second_factor_needs_an_email_code_and_a_wait(clock, make_rp, person):
    broker, rp = clock, make_rp()
    _codes_from_an_app(broker, person)
    ua = UserAgent(broker)
    here = ua.go(rp.authorization_url())
    code_page = ua.post(here, {"email": person, "password": PASSWORD}).headers["location"]
    lost = code_page.replace("/code", "/lost-factor")
    assert "72 hours" in ua.http.get(lost).text
    code_form = ua.post(lost, {}).headers["location"]
    assert ua.post(code_form, {"code": latest_code(broker, person)}).status_code == 303
    assert [m.template for m in _messages(broker, person)][-1] == "factor_reset_requested"
    assert "You have already asked" in ua.http.get(lost).text
    # Too early: the set-up pages stay shut.
    setup = lost.replace("/sign-in/", "/create-account/").replace("/lost-factor", "/second-factor")
    assert ua.post(setup, {"method": "email"}).status_code == 303
    assert "broker-session" not in ua.http.cookies

    broker.travel(timedelta(hours=73))
    page = ua.go(rp.authorization_url())
    code_page = ua.post(page, {"email": person, "password": PASSWORD}).headers["location"]
    lost = code_page.replace("/code", "/lost-factor")
    assert "waiting period has passed" in ua.http.get(lost).text
    code_form = ua.post(lost, {}).headers["location"]
    here = ua.submit(code_form, {"code": latest_code(broker, person)})
    assert here.endswith("/second-factor")
    here = ua.submit(here, {"method": "sms"})
    here = ua.submit(here, {"phone": "07123 456789"})
    callback = ua.authorize(ua.submit(here, {"code": latest_code(broker, "+447123456789")}))
    broker.offset[0] = timedelta(0)  # back to the relying service's time to check the ID token
    assert rp.redeem(callback)["id_claims"]["amr"] == ["pwd", "sms"]
    actions = _audit_actions(broker, person)
    assert actions.index("factor_reset.requested") < actions.index("factor_reset.completed")
    ua.close()


def test_signing_in_normally_cancels_a_pending_factor_reset(broker, make_rp, person):
    rp = make_rp()
    app = pyotp.TOTP(_codes_from_an_app(broker, person))
    thief = UserAgent(broker)
    here = thief.go(rp.authorization_url())
    code_page = thief.post(here, {"email": person, "password": PASSWORD}).headers["location"]
    lost = code_page.replace("/code", "/lost-factor")
    code_form = thief.post(lost, {}).headers["location"]
    thief.post(code_form, {"code": latest_code(broker, person)})  # (the thief also has the email here)
    owner = UserAgent(broker)
    here = owner.go(rp.authorization_url())
    code_page = owner.post(here, {"email": person, "password": PASSWORD}).headers["location"]
    owner.authorize(owner.submit(code_page, {"code": app.now()}))
    assert "factor_reset.cancelled" in _audit_actions(broker, person)
    assert "Reset your way to get security codes" in thief.http.get(lost).text
    assert "already asked" not in thief.http.get(lost).text
    thief.close()
    owner.close()


def test_people_who_get_codes_by_email_change_how_at_once(broker, make_rp, person):
    """For codes by email, the lost-factor page's emailed code is the second factor itself: no wait,
    straight on to choosing another way (not only a backup)."""
    rp = make_rp()
    ua = UserAgent(broker)
    here = ua.go(rp.authorization_url())
    code_page = ua.post(here, {"email": person, "password": PASSWORD}).headers["location"]
    lost = code_page.replace("/code", "/lost-factor")
    page = ua.http.get(lost).text
    assert "Change how you get security codes" in page and "72 hours" not in page
    assert f'href="{code_page}"' in page  # and the way back to the code already sent
    code_form = ua.post(lost, {}).headers["location"]
    assert ua.submit(code_form, {"code": "000000"}) == code_form  # a wrong code opens nothing
    here = ua.submit(code_form, {"code": latest_code(broker, person)})
    assert here.endswith("/second-factor")
    here = ua.submit(here, {"method": "sms"})
    here = ua.submit(here, {"phone": "07123 456780"})
    callback = ua.authorize(ua.submit(here, {"code": latest_code(broker, "+447123456780")}))
    assert rp.redeem(callback)["id_claims"]["amr"] == ["pwd", "sms"]
    with broker.db() as db:
        account = db.scalar(select(Account).filter_by(email=person))
        assert account.mfa_method == "sms" and account.factor_reset_available_at is None
    assert "factor.set" in _audit_actions(broker, person)
    ua.close()


def test_create_account_with_email_codes_as_the_second_factor(broker, make_rp):
    rp = make_rp()
    email = f"email-{uuid.uuid4().hex[:8]}@example.org"
    ua, url = _start(broker, rp, "create-account")
    here = ua.submit(url, {"email": email})
    here = ua.submit(here, {"code": latest_code(broker, email)})
    here = ua.submit(here, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    rp.redeem(ua.authorize(ua.submit(here, {"method": "email"})))
    ua.close()
    # Signing in later asks for a code sent by email, and that is two factors.
    fresh = UserAgent(broker)
    page = fresh.go(rp.authorization_url())
    code_page = fresh.post(page, {"email": email, "password": NEW_PASSWORD}).headers["location"]
    assert code_page.endswith("/code") and _messages(broker, email)[-1].template == "sign_in_code"
    claims = rp.redeem(fresh.authorize(fresh.submit(code_page, {"code": latest_code(broker, email)})))[
        "id_claims"
    ]
    assert claims["vot"] == "Cl.Cm" and claims["amr"] == ["pwd", "otp"]
    fresh.close()
