"""Changing how you sign in from the Security page, over HTTP: email address, authenticator app, phone
number and a backup method, then signing in with what changed. And the attacks: a stale or
password-only session, wrong, expired and reused codes, forms without the CSRF token, an address that
already has an account, and the session cookie from before a change."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from broker.accounts.codes import WRONG_CODE
from broker.store.models import Account, AuditEvent
from tests.e2e.agent import PASSWORD, UserAgent

SECURITY = "/account/security"
ROW = re.compile(r'<td class="govuk-table__cell">([^<]*)</td><td class="govuk-table__cell">([^<]*)</td>')


# Journeys whose storage another test already runs on PostgreSQL stay on SQLite (keeps the suite short).
SQLITE_ONLY = pytest.mark.parametrize("broker", ["sqlite"], indirect=True)


def outbox(ua: UserAgent, to: str) -> list[str]:
    """Messages sent to ``to``, newest first, as the development outbox page shows them."""
    page = ua.http.get(f"{ua.broker.url}/dev/outbox", params={"to": to}).text
    return [html.unescape(body) for recipient, body in ROW.findall(page) if html.unescape(recipient) == to]


def code_sent_to(ua: UserAgent, to: str) -> str:
    found = re.search(r"\b(\d{6})\b", outbox(ua, to)[0])
    assert found, f"no code for {to}"
    return found.group(1)


def new_email() -> str:
    return f"new-{uuid.uuid4().hex[:10]}@example.org"


def new_mobile() -> str:
    return f"079111{uuid.uuid4().int % 10**5:05d}"


def e164(mobile: str) -> str:
    return "+44" + mobile[1:]


def set_factors(broker, email: str, **values: object) -> None:
    with broker.db() as db:
        account = db.scalars(select(Account).where(Account.email == email)).one()
        for name, value in values.items():
            setattr(account, name, value)
        db.commit()


def account_of(broker, email: str) -> Account | None:
    with broker.db() as db:
        return db.scalars(select(Account).where(Account.email == email)).first()


def actions(broker, account_id: str) -> list[tuple[str, dict[str, object]]]:
    with broker.db() as db:
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.subject == account_id).order_by(AuditEvent.seq)
        )
        return [(e.action, e.details) for e in events]


def app_code(broker, secret: str, later: int = 0) -> str:
    return pyotp.TOTP(secret).at(broker.services.clock() + timedelta(seconds=30 * later))


def sign_in(
    broker, email: str, code: str | None = None, ua: UserAgent | None = None, page: str = SECURITY
) -> UserAgent:
    """A browser signed in to the account pages with password and second factor, back on ``page``."""
    ua = ua or UserAgent(broker)
    here = ua.go(f"{broker.url}{page}")
    assert "/sign-in/" in here, here
    here = ua.submit(here, {"email": email, "password": PASSWORD})
    assert here.endswith("/code"), ua.last_page[:500]
    here = ua.submit(here, {"code": code or code_sent_to(ua, email)})
    assert here == f"{broker.url}{page}", (here, ua.last_page[:500])
    return ua


def session_cookie(ua: UserAgent) -> str:
    return str(ua.http.cookies.get("broker-session"))


def assert_error(ua: UserAgent, field: str, message: str, typed: str | None = None) -> None:
    """A 400 with a GOV.UK error summary whose link points at the field, and what was typed kept."""
    assert ua.last_status == 400, ua.last_page[:500]
    assert "There is a problem" in ua.last_page
    assert f'<a href="#{field}">{html.escape(message)}</a>' in ua.last_page, ua.last_page
    assert f'id="{field}"' in ua.last_page
    if typed:
        assert f'value="{html.escape(typed)}"' in ua.last_page


def test_change_email_address(broker, person):
    ua = sign_in(broker, person)
    assert "How you sign in" in ua.last_page and person in ua.last_page
    assert 'href="/account/password"' in ua.last_page  # the password is changed on its own page
    account_id = str(account_of(broker, person).id)

    ua.go(f"{broker.url}{SECURITY}/email")
    assert "Change your email address" in ua.last_page
    ua.submit(f"{broker.url}{SECURITY}/email", {"email": "not an address"})
    assert_error(
        ua, "email", "Enter an email address in the correct format, like name@example.com", "not an address"
    )
    ua.submit(f"{broker.url}{SECURITY}/email", {"email": person.upper()})
    assert_error(ua, "email", "Enter a different email address from the one you sign in with now")

    address = new_email()
    here = ua.submit(f"{broker.url}{SECURITY}/email", {"email": address})
    assert here == f"{broker.url}{SECURITY}/email/code" and address in ua.last_page
    ua.submit(here, {"code": "12ab"})
    assert_error(ua, "code", "Enter the security code using only 6 digits", "12ab")
    code = code_sent_to(ua, address)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    ua.submit(here, {"code": wrong})
    assert_error(ua, "code", WRONG_CODE, wrong)
    assert account_of(broker, person) is not None  # nothing changed yet

    old_cookie = session_cookie(ua)
    response = ua.post(here, {"code": code})
    assert response.status_code == 303 and response.headers["location"].endswith("?notice=email-changed")
    assert session_cookie(ua) != old_cookie  # the session secret was rotated
    ua.go(response.headers["location"])
    assert "Your email address has been changed" in ua.last_page and address in ua.last_page
    assert account_of(broker, person) is None and account_of(broker, address).email_verified
    assert "The email address for your account was changed" in outbox(ua, person)[0]

    # The same code again does nothing: there is no change waiting any more.
    again = ua.post(here, {"code": code})
    assert again.status_code == 303 and again.headers["location"].endswith(f"{SECURITY}/email")

    # The cookie from before the change no longer opens the account.
    stale = UserAgent(broker)
    stale.http.cookies.set("broker-session", old_cookie)
    assert stale.http.get(f"{broker.url}{SECURITY}").status_code == 303
    stale.close()

    events = actions(broker, account_id)
    assert ("email.changed", {}) in events
    ua.go(f"{broker.url}/account/activity")
    assert "You changed your email address" in ua.last_page
    assert not any(address in str(details) or code in str(details) for _, details in events)

    # Sign-in works with the new address only.
    other = UserAgent(broker)
    here = other.go(f"{broker.url}{SECURITY}")
    other.submit(here, {"email": person, "password": PASSWORD})
    assert "Enter the email address and password for your account" in other.last_page
    sign_in(broker, address, ua=other)
    other.close()
    ua.close()


@SQLITE_ONLY
def test_an_address_that_already_has_an_account_is_not_revealed(broker, person):
    taken = f"taken-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(taken)
    fresh = new_email()
    ua = sign_in(broker, person)
    pages = []
    for address in (taken, fresh):
        response = ua.post(f"{broker.url}{SECURITY}/email", {"email": address})
        page = ua.http.get(response.headers["location"])
        pages.append((response.status_code, response.headers["location"], page.text.replace(address, "X")))
    assert pages[0] == pages[1]
    assert "this email address already has an account" in outbox(ua, taken)[0]
    assert not re.search(r"\b\d{6}\b", outbox(ua, taken)[0])  # no code: nothing could prove the change

    ua.post(f"{broker.url}{SECURITY}/email", {"email": taken})
    ua.submit(f"{broker.url}{SECURITY}/email/code", {"code": "123456"})
    assert_error(ua, "code", WRONG_CODE)
    assert account_of(broker, person) is not None and account_of(broker, taken) is not None
    ua.close()


@SQLITE_ONLY
def test_changes_need_a_recent_sign_in_with_both_factors(clock, person, make_rp):
    broker = clock
    ua = sign_in(broker, person)
    pages = [
        "/email",
        "/email/code",
        "/phone",
        "/authenticator",
        "/backup",
        "/backup/phone",
        "/backup/remove",
    ]
    broker.travel(timedelta(minutes=16))
    for page in pages:
        response = ua.http.get(f"{broker.url}{SECURITY}{page}")
        assert response.status_code == 303, page
        assert (
            response.headers["location"]
            == f"/account/sign-in?next=%2Faccount%2Fsecurity{page.replace('/', '%2F')}"
        )
    response = ua.post(f"{broker.url}{SECURITY}/email", {"email": new_email()})
    assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in")

    # Signing in again leads straight back to the page.
    here = ua.go(f"{broker.url}{SECURITY}/email")
    here = ua.submit(here, {"email": person, "password": PASSWORD})
    here = ua.submit(here, {"code": code_sent_to(ua, person)})
    assert here == f"{broker.url}{SECURITY}/email" and "Change your email address" in ua.last_page
    ua.close()

    # A password-only sign-in (a service that asked for Cl) is not enough.
    weak = UserAgent(broker)
    weak.authorize(make_rp().authorization_url(vtr='["Cl"]'), email=person)
    assert weak.http.get(f"{broker.url}{SECURITY}").status_code == 200
    response = weak.http.get(f"{broker.url}{SECURITY}/email")
    assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in")
    weak.close()


@SQLITE_ONLY
def test_a_code_expires_with_the_sign_in_and_wrong_codes_lock(clock, person):
    broker = clock
    ua = sign_in(broker, person)
    address = new_email()
    ua.post(f"{broker.url}{SECURITY}/email", {"email": address})
    code = code_sent_to(ua, address)
    broker.travel(timedelta(minutes=16))
    sign_in(broker, person, ua=ua, page=f"{SECURITY}/email")
    response = ua.post(f"{broker.url}{SECURITY}/email/code", {"code": code})  # expired, in a new session
    assert response.status_code == 303 and response.headers["location"].endswith(f"{SECURITY}/email")
    assert account_of(broker, address) is None

    ua.post(f"{broker.url}{SECURITY}/email", {"email": address})
    statuses = [
        ua.post(f"{broker.url}{SECURITY}/email/code", {"code": "000000"}).status_code for _ in range(6)
    ]
    assert statuses[:5] == [400] * 5 and statuses[5] == 429
    response = ua.post(f"{broker.url}{SECURITY}/email/code", {"code": code_sent_to(ua, address)})
    assert response.status_code == 429 and "You have tried too many times" in response.text
    ua.close()


@SQLITE_ONLY
def test_forms_without_the_csrf_token_are_refused(broker, person):
    ua = sign_in(broker, person)
    for path, data in (
        ("/email", {"email": new_email()}),
        ("/email/code", {"code": "123456"}),
        ("/backup", {"method": "sms"}),
        ("/backup/remove", {}),
        ("/authenticator", {"code": "123456"}),
    ):
        for token in ({}, {"csrf_token": "f" * 64}):
            response = ua.http.post(f"{broker.url}{SECURITY}{path}", data={**data, **token})
            assert response.status_code == 400 and "Your form could not be sent" in response.text, path
    ua.close()


def test_change_authenticator_app(clock, person):
    broker = clock
    old = pyotp.random_base32()
    set_factors(broker, person, mfa_method="totp", totp_secret=old)
    ua = sign_in(broker, person, code=app_code(broker, old))
    assert 'href="/account/security/authenticator"' in ua.last_page
    ua.go(f"{broker.url}{SECURITY}/authenticator")
    assert "QR code for your authenticator app" in ua.last_page and "<svg" in ua.last_page
    secret = re.search(r'id="secret-key">([A-Z2-7]+)<', ua.last_page).group(1)
    ua.go(f"{broker.url}{SECURITY}/authenticator")  # reloading shows the same new secret
    assert f'id="secret-key">{secret}<' in ua.last_page and secret != old

    ua.submit(f"{broker.url}{SECURITY}/authenticator", {"code": ""})
    assert_error(ua, "code", "Enter the security code")
    ua.submit(f"{broker.url}{SECURITY}/authenticator", {"code": app_code(broker, old, later=1)})
    assert_error(
        ua, "code", "The code is not correct. Enter the 6-digit code your new authenticator app shows"
    )
    used = app_code(broker, secret)
    response = ua.post(f"{broker.url}{SECURITY}/authenticator", {"code": used})
    assert response.status_code == 303 and response.headers["location"].endswith("?notice=app-changed")
    ua.go(response.headers["location"])
    assert "Your authenticator app has been changed" in ua.last_page
    assert "The way you get security codes for your account was changed" in outbox(ua, person)[0]

    replay = UserAgent(broker)
    here = replay.submit(replay.go(f"{broker.url}{SECURITY}"), {"email": person, "password": PASSWORD})
    replay.submit(here, {"code": used})
    assert_error(replay, "code", WRONG_CODE)  # the code that confirmed the app cannot sign in again
    replay.close()
    broker.travel(timedelta(seconds=31))  # a later time step than the one just used
    other = UserAgent(broker)
    here = other.go(f"{broker.url}{SECURITY}")
    here = other.submit(here, {"email": person, "password": PASSWORD})
    other.submit(here, {"code": app_code(broker, old)})
    assert other.last_status == 400  # the old app stops working
    sign_in(broker, person, code=app_code(broker, secret), ua=UserAgent(broker)).close()
    events = actions(broker, str(account_of(broker, person).id))
    assert ("factor.changed", {"method": "totp"}) in events
    assert not any(secret in str(details) for _, details in events)
    other.close()
    ua.close()


@SQLITE_ONLY
def test_change_phone_number(broker, person):
    old, mobile = new_mobile(), new_mobile()
    set_factors(broker, person, mfa_method="sms", phone_number=e164(old), phone_number_verified=True)
    ua = UserAgent(broker)
    here = ua.go(f"{broker.url}{SECURITY}")
    here = ua.submit(here, {"email": person, "password": PASSWORD})
    ua.submit(here, {"code": code_sent_to(ua, e164(old))})
    assert f"ending {old[-4:]}" in ua.last_page

    ua.submit(f"{broker.url}{SECURITY}/phone", {"phone": "0123"})
    assert_error(ua, "phone", "Enter a phone number in the correct format, like 07700 900 982", "0123")
    here = ua.submit(f"{broker.url}{SECURITY}/phone", {"phone": mobile})
    assert here.endswith("/phone/code") and f"ending {mobile[-4:]}" in ua.last_page
    ua.submit(here, {"code": code_sent_to(ua, e164(old))})  # a code the old phone got is no proof
    assert_error(ua, "code", WRONG_CODE)
    response = ua.post(here, {"code": code_sent_to(ua, e164(mobile))})
    assert response.status_code == 303 and response.headers["location"].endswith("?notice=phone-changed")
    ua.go(response.headers["location"])
    assert "Your phone number has been changed" in ua.last_page

    other = UserAgent(broker)
    here = other.go(f"{broker.url}{SECURITY}")
    sent_before = len(outbox(other, e164(old)))
    here = other.submit(here, {"email": person, "password": PASSWORD})
    assert len(outbox(other, e164(old))) == sent_before  # codes now go to the new number only
    other.submit(here, {"code": code_sent_to(other, e164(mobile))})
    assert other.last_status == 200 and "How you sign in" in other.last_page
    other.close()
    ua.close()


def test_sign_in_with_a_backup_text_message_when_the_email_code_is_lost(broker, person, make_rp):
    mobile = new_mobile()
    ua = sign_in(broker, person)
    assert "Add<span" in ua.last_page  # no backup yet
    ua.submit(f"{broker.url}{SECURITY}/backup", {})
    assert_error(ua, "method", "Select how you want to get backup security codes")
    here = ua.submit(f"{broker.url}{SECURITY}/backup", {"method": "sms"})
    assert here == f"{broker.url}{SECURITY}/backup/phone"
    here = ua.submit(here, {"phone": mobile})
    response = ua.post(here, {"code": code_sent_to(ua, e164(mobile))})
    assert response.headers["location"].endswith("?notice=backup-set")
    ua.go(response.headers["location"])
    assert "Your backup method has been saved" in ua.last_page and f"ending {mobile[-4:]}" in ua.last_page
    ua.close()

    # At a service's sign-in: password, then "use your backup method" instead of the email code.
    rp = make_rp()
    other = UserAgent(broker)
    here = other.go(rp.authorization_url())
    code_page = other.submit(here, {"email": person, "password": PASSWORD})
    emailed = code_sent_to(other, person)
    backup = code_page.replace("/code", "/backup")
    assert f'href="{backup.removeprefix(broker.url)}"' in other.last_page
    other.go(backup)
    assert "Send the code" in other.last_page
    other.submit(f"{backup}/code", {"code": emailed})  # no backup code sent yet
    assert_error(other, "code", WRONG_CODE, emailed)
    here = other.submit(backup, {})
    assert here == f"{backup}/code"
    texted = code_sent_to(other, e164(mobile))
    other.submit(here, {"code": emailed})  # the email code does not pass for the backup
    assert_error(other, "code", WRONG_CODE, emailed)
    callback = other.authorize(other.post(here, {"code": texted}).headers["location"])
    claims = rp.redeem(callback)["id_claims"]
    assert claims["amr"] == ["pwd", "sms"] and claims["vot"] == "Cl.Cm"
    other.close()
    assert ("factor.backup_used", {"method": "sms"}) in actions(broker, str(account_of(broker, person).id))


@SQLITE_ONLY
def test_backup_app_for_text_message_codes_then_removed(clock, person, make_rp):
    broker = clock
    mobile = new_mobile()
    set_factors(broker, person, mfa_method="sms", phone_number=e164(mobile), phone_number_verified=True)
    ua = UserAgent(broker)
    here = ua.submit(ua.go(f"{broker.url}{SECURITY}"), {"email": person, "password": PASSWORD})
    ua.submit(here, {"code": code_sent_to(ua, e164(mobile))})

    ua.go(f"{broker.url}{SECURITY}/backup")
    assert 'value="totp"' in ua.last_page and 'value="sms"' not in ua.last_page  # never the main method
    ua.submit(f"{broker.url}{SECURITY}/backup", {"method": "sms"})
    assert_error(ua, "method", "Select how you want to get backup security codes")
    assert ua.http.get(f"{broker.url}{SECURITY}/backup/phone").status_code == 303
    here = ua.submit(f"{broker.url}{SECURITY}/backup", {"method": "totp"})
    secret = re.search(r'id="secret-key">([A-Z2-7]+)<', ua.last_page).group(1)
    response = ua.post(here, {"code": app_code(broker, secret)})
    assert response.headers["location"].endswith("?notice=backup-set")

    # Sign in with the backup app, the text message never arriving.
    broker.travel(timedelta(seconds=31))
    other = UserAgent(broker)
    code_page = other.submit(other.go(make_rp().authorization_url()), {"email": person, "password": PASSWORD})
    backup = code_page.replace("/code", "/backup")
    assert other.go(backup) == f"{backup}/code" and "authenticator app" in other.last_page
    other.submit(f"{backup}/code", {"code": code_sent_to(other, e164(mobile))})  # the text is no app code
    assert_error(other, "code", WRONG_CODE)
    assert other.post(f"{backup}/code", {"code": app_code(broker, secret)}).status_code == 303
    other.close()

    # Removing it: the app secret is forgotten and sign-in no longer offers it.
    ua.go(f"{broker.url}{SECURITY}/backup/remove")
    assert "Remove backup method" in ua.last_page
    response = ua.post(f"{broker.url}{SECURITY}/backup/remove", {})
    assert response.headers["location"].endswith("?notice=backup-removed")
    account = account_of(broker, person)
    assert account.backup_method is None and account.totp_secret is None and account.phone_number
    third = UserAgent(broker)
    code_page = third.submit(third.go(make_rp().authorization_url()), {"email": person, "password": PASSWORD})
    assert "/backup" not in third.last_page
    assert third.go(code_page.replace("/code", "/backup")) == code_page.rsplit("/", 1)[0]
    third.close()
    ua.close()
    events = [action for action, _ in actions(broker, str(account.id))]
    assert "factor.backup_set" in events and "factor.backup_removed" in events


@SQLITE_ONLY
def test_changing_the_backup_forgets_the_old_one(broker, person):
    ua = sign_in(broker, person)
    mobile = new_mobile()
    here = ua.submit(f"{broker.url}{SECURITY}/backup/phone", {"phone": mobile})
    ua.post(here, {"code": code_sent_to(ua, e164(mobile))})
    here = ua.submit(f"{broker.url}{SECURITY}/backup", {"method": "totp"})
    secret = re.search(r'id="secret-key">([A-Z2-7]+)<', ua.last_page).group(1)
    assert ua.post(here, {"code": app_code(broker, secret)}).status_code == 303
    account = account_of(broker, person)
    assert (
        account.backup_method == "totp"
        and account.phone_number is None
        and account.mfa_method in (None, "email")
    )
    ua.close()


@SQLITE_ONLY
def test_a_backup_text_message_code_expires(clock, person):
    broker = clock
    mobile = new_mobile()
    set_factors(broker, person, backup_method="sms", phone_number=e164(mobile), phone_number_verified=True)
    ua = UserAgent(broker)
    code_page = ua.submit(ua.go(f"{broker.url}{SECURITY}"), {"email": person, "password": PASSWORD})
    backup = code_page.replace("/code", "/backup")
    ua.submit(backup, {})
    code = code_sent_to(ua, e164(mobile))
    broker.travel(timedelta(minutes=16))
    ua.submit(f"{backup}/code", {"code": code})
    assert_error(ua, "code", WRONG_CODE, code)
    broker.offset[0] = timedelta(0)
    ua.submit(backup, {})
    code = code_sent_to(ua, e164(mobile))
    assert ua.post(f"{backup}/code", {"code": code}).status_code == 303
    ua.close()


@SQLITE_ONLY
def test_a_pending_change_belongs_to_the_browser_that_started_it(broker, person):
    ua, other = sign_in(broker, person), sign_in(broker, person)
    address = new_email()
    ua.post(f"{broker.url}{SECURITY}/email", {"email": address})
    response = other.post(f"{broker.url}{SECURITY}/email/code", {"code": code_sent_to(ua, address)})
    assert response.status_code == 303 and response.headers["location"].endswith(f"{SECURITY}/email")
    assert account_of(broker, address) is None
    assert (
        ua.post(f"{broker.url}{SECURITY}/email/code", {"code": code_sent_to(ua, address)}).status_code == 303
    )
    assert account_of(broker, address) is not None
    ua.close()
    other.close()


def test_a_new_phone_can_be_sent_its_code_again_and_only_the_newest_works(broker, person):
    """"Not received? Send again" on the new phone's code page: a new code replaces the old one, and
    the sends count against the same limit as every other (no phone can be flooded from here)."""
    old, mobile = new_mobile(), new_mobile()
    set_factors(broker, person, mfa_method="sms", phone_number=e164(old), phone_number_verified=True)
    ua = UserAgent(broker)
    here = ua.go(f"{broker.url}{SECURITY}")
    here = ua.submit(here, {"email": person, "password": PASSWORD})
    ua.submit(here, {"code": code_sent_to(ua, e164(old))})
    here = ua.submit(f"{broker.url}{SECURITY}/phone", {"phone": mobile})
    assert "Not received?" in ua.last_page and 'href="/account/security/phone"' in ua.last_page  # back
    first = code_sent_to(ua, e164(mobile))
    ua.submit(here + "/resend", {})
    assert ua.last_status == 200 and "We have sent you a new code" in ua.last_page
    assert len(outbox(ua, e164(mobile))) == 2
    newest = code_sent_to(ua, e164(mobile))
    if first != newest:
        ua.submit(here, {"code": first})
        assert_error(ua, "code", WRONG_CODE)
    statuses = []
    for _ in range(10):
        statuses.append(ua.post(here + "/resend", {}).status_code)
    assert 429 in statuses and len(outbox(ua, e164(mobile))) <= 10
    ua.close()


def test_a_new_email_address_can_be_sent_its_code_again_and_only_the_newest_works(broker, person):
    """"Not received? Send again" on the new address's code page, with a back link to the address: a new
    code replaces the old one, and the sends count against the same limit as every other."""
    ua = sign_in(broker, person)
    address = new_email()
    here = ua.submit(f"{broker.url}{SECURITY}/email", {"email": address})
    assert here == f"{broker.url}{SECURITY}/email/code"
    assert "Not received?" in ua.last_page and 'class="govuk-back-link"' in ua.last_page
    assert 'href="/account/security/email"' in ua.last_page
    first = code_sent_to(ua, address)
    ua.submit(here + "/resend", {})
    assert ua.last_status == 200 and "We have sent you a new code" in ua.last_page
    assert len(outbox(ua, address)) == 2
    newest = code_sent_to(ua, address)
    if first != newest:
        ua.submit(here, {"code": first})
        assert_error(ua, "code", WRONG_CODE)
    statuses = [ua.post(here + "/resend", {}).status_code for _ in range(10)]
    assert 429 in statuses and len(outbox(ua, address)) <= 10
    ua.close()


@SQLITE_ONLY
def test_a_resend_without_a_change_waiting_or_the_csrf_token_sends_nothing(broker, person):
    ua = sign_in(broker, person)
    response = ua.post(f"{broker.url}{SECURITY}/email/code/resend", {})
    assert response.status_code == 303 and response.headers["location"].endswith(f"{SECURITY}/email")
    address = new_email()
    ua.submit(f"{broker.url}{SECURITY}/email", {"email": address})
    forged = ua.http.post(f"{broker.url}{SECURITY}/email/code/resend", data={})
    assert forged.status_code in (400, 403) and len(outbox(ua, address)) == 1
    ua.close()


def test_someone_who_gets_codes_by_email_changes_to_text_messages(broker, person):
    ua = sign_in(broker, person)
    assert 'href="/account/security/codes"' in ua.last_page  # the email row's "Change"
    ua.go(f"{broker.url}{SECURITY}/codes")
    assert "How do you want to get security codes?" in ua.last_page
    ua.submit(f"{broker.url}{SECURITY}/codes", {})
    assert_error(ua, "method", "Select how you want to get security codes")
    here = ua.submit(f"{broker.url}{SECURITY}/codes", {"method": "sms"})
    assert here == f"{broker.url}{SECURITY}/codes/phone"
    mobile = new_mobile()
    here = ua.submit(here, {"phone": mobile})
    assert here == f"{broker.url}{SECURITY}/codes/phone/code" and "Not received?" in ua.last_page
    response = ua.post(here, {"code": code_sent_to(ua, e164(mobile))})
    assert response.headers["location"].endswith("?notice=codes-by-phone")
    ua.go(response.headers["location"])
    assert "You will now get security codes by text message" in ua.last_page
    account = account_of(broker, person)
    assert account.mfa_method == "sms" and account.phone_number == e164(mobile)
    assert ("factor.changed", {"method": "sms"}) in actions(broker, str(account.id))
    # Now codes come by text message: the email-only choice is closed, and sign-in asks for the phone's.
    assert ua.http.get(f"{broker.url}{SECURITY}/codes").status_code == 303
    assert ua.http.get(f"{broker.url}{SECURITY}/codes/phone").status_code == 303
    other = UserAgent(broker)
    here = other.go(f"{broker.url}{SECURITY}")
    here = other.submit(here, {"email": person, "password": PASSWORD})
    assert "Check your phone" in other.last_page
    other.close()
    ua.close()


@SQLITE_ONLY
def test_someone_who_gets_codes_by_email_changes_to_an_app_but_not_to_their_backup(clock, person):
    broker = clock
    mobile = new_mobile()
    set_factors(broker, person, backup_method="sms", phone_number=e164(mobile), phone_number_verified=True)
    ua = sign_in(broker, person)
    ua.go(f"{broker.url}{SECURITY}/codes")
    assert 'value="totp"' in ua.last_page and 'value="sms"' not in ua.last_page
    ua.submit(f"{broker.url}{SECURITY}/codes", {"method": "sms"})  # the backup cannot be the main way too
    assert_error(ua, "method", "Select how you want to get security codes")
    assert ua.http.get(f"{broker.url}{SECURITY}/codes/phone").status_code == 303
    here = ua.submit(f"{broker.url}{SECURITY}/codes", {"method": "totp"})
    assert here == f"{broker.url}{SECURITY}/codes/authenticator"
    secret = re.search(r'id="secret-key">([A-Z2-7]+)<', ua.last_page)
    assert secret
    response = ua.post(here, {"code": app_code(broker, secret.group(1))})
    assert response.headers["location"].endswith("?notice=codes-by-app")
    account = account_of(broker, person)
    assert account.mfa_method == "totp" and account.backup_method == "sms"
    ua.close()
