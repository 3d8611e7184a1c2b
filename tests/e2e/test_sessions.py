"""Sessions and interactions under attack: fixation, hijacked sign-in links, guessed codes, cookies."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from broker.deps import utc_now
from broker.store.models import AuthorizationCode
from tests.e2e.agent import PASSWORD, UserAgent, latest_code


def test_session_cookie_is_http_only_lax_and_rotated_at_sign_in(broker, make_rp, person, agent):
    rp = make_rp()
    agent.authorize(rp.authorization_url(), email=person)
    first = agent.http.cookies.get("broker-session")
    assert first
    page = agent.go(rp.authorization_url(prompt="login"))
    agent.authorize(page, email=person)
    assert agent.http.cookies.get("broker-session") != first
    # The old cookie no longer signs anyone in.
    stale = UserAgent(broker)
    stale.http.cookies.set("broker-session", first)
    assert "/sign-in/" in stale.go(rp.authorization_url())
    stale.close()


def test_set_cookie_attributes(broker, make_rp, person):
    rp = make_rp()
    ua = UserAgent(broker)
    here = ua.go(rp.authorization_url())
    response = ua.post(here, data={"email": person, "password": PASSWORD})
    response = ua.post(response.headers["location"], data={"code": latest_code(broker, person)})
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "broker-session=" in v
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert response.status_code == 303  # never 307 after a credential POST
    ua.close()


def test_a_sign_in_link_does_not_work_in_another_browser(broker, make_rp, person):
    rp = make_rp()
    victim, attacker = UserAgent(broker), UserAgent(broker)
    sign_in_page = attacker.go(rp.authorization_url())
    assert "/sign-in/" in sign_in_page
    victim.go(sign_in_page)
    assert victim.last_status == 400 and "took too long" in victim.last_page
    refused = victim.post(sign_in_page, data={"email": person, "password": PASSWORD})
    assert refused.status_code == 400
    victim.close()
    attacker.close()


def test_security_code_entry_locks_after_six_wrong_codes_and_unlocks_after_the_wait(clock, make_rp, person):
    broker, rp = clock, make_rp()
    ua = UserAgent(broker)
    here = ua.go(rp.authorization_url())
    code_page = ua.post(here, data={"email": person, "password": PASSWORD}).headers["location"]
    real = latest_code(broker, person)
    wrong = "000000" if real != "000000" else "111111"
    for _ in range(5):
        assert ua.post(code_page, data={"code": wrong}).status_code == 400
    locked = ua.post(code_page, data={"code": wrong})
    assert locked.status_code == 429 and "Try again in 15 minutes" in locked.text
    # Even the right code is refused while blocked.
    assert ua.post(code_page, data={"code": real}).status_code == 429
    broker.travel(timedelta(minutes=16))
    # After the wait a new code works (the old one expired meanwhile).
    page = ua.go(rp.authorization_url())
    code_page = ua.post(page, data={"email": person, "password": PASSWORD}).headers["location"]
    assert ua.post(code_page, data={"code": latest_code(broker, person)}).status_code == 303
    ua.close()


def test_password_guessing_locks_the_account_for_a_while_only(clock, make_rp, person):
    broker, rp = clock, make_rp()
    ua = UserAgent(broker)
    here = ua.go(rp.authorization_url())
    for _ in range(5):
        assert ua.post(here, data={"email": person, "password": "guess"}).status_code == 400
    assert ua.post(here, data={"email": person, "password": "guess"}).status_code == 400
    # Now blocked, even with the right password: the message says what to do.
    blocked = ua.post(here, data={"email": person, "password": PASSWORD})
    assert blocked.status_code == 429 and "Try again in" in blocked.text
    broker.travel(timedelta(minutes=16))
    assert ua.post(here, data={"email": person, "password": PASSWORD}).status_code == 303
    ua.close()


def test_wrong_password_and_unknown_account_look_the_same(broker, make_rp, person):
    rp = make_rp()
    ua = UserAgent(broker)
    here = ua.go(rp.authorization_url())
    wrong = ua.post(here, data={"email": person, "password": "wrong password"})
    unknown = ua.post(here, data={"email": "nobody-" + person, "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.text.replace(person, "X") == unknown.text.replace("nobody-" + person, "X")
    ua.close()


def test_expired_code_is_refused(broker, make_rp, person, agent):
    rp = make_rp()
    callback = agent.authorize(rp.authorization_url(), email=person)
    with broker.db() as db:
        db.execute(update(AuthorizationCode).values(expires_at=utc_now() - timedelta(seconds=1)))
        db.commit()
    pending = rp.pending[callback.params["state"]]
    response = rp.token_request(
        grant_type="authorization_code",
        code=callback.params["code"],
        redirect_uri=rp.redirect_uri,
        code_verifier=pending["verifier"],
    )
    assert response.json()["error"] == "invalid_grant"


def test_resource_server_with_its_own_credentials_can_introspect(broker, make_rp, person, agent):
    rp = make_rp()
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    api = make_rp(scopes=["openid", "introspect"])
    stranger = make_rp()
    endpoint = rp.metadata["introspection_endpoint"]
    with api.client() as client:
        assert client.introspect_token(endpoint, token=token["access_token"]).json()["active"] is True
    with stranger.client() as client:
        assert client.introspect_token(endpoint, token=token["access_token"]).json() == {"active": False}


def test_sign_out_of_all_devices(broker, make_rp, person, receiver):
    rp = make_rp(backchannel_logout_uri=receiver.endpoint)
    laptop, phone = UserAgent(broker), UserAgent(broker)
    token = rp.redeem(laptop.authorize(rp.authorization_url(scope="openid offline_access"), email=person))
    phone.authorize(rp.authorization_url(), email=person)
    before = len(receiver.tokens)
    page = phone.http.get(f"{broker.url}/account/security")
    assert page.status_code == 200 and "Sign out of all devices" in page.text
    assert phone.http.post(f"{broker.url}/account/sign-out-everywhere").status_code == 400  # no CSRF token
    assert phone.post(f"{broker.url}/account/sign-out-everywhere", {}).status_code == 200
    for agent in (laptop, phone):
        assert "/sign-in/" in agent.go(rp.authorization_url())
    assert (
        rp.token_request(grant_type="refresh_token", refresh_token=token["refresh_token"]).json()["error"]
        == "invalid_grant"
    )
    assert len(receiver.wait_for(before + 2)) >= before + 2
    signed_out = phone.http.get(f"{broker.url}/account/security")
    assert signed_out.status_code == 303 and "/account/sign-in" in signed_out.headers["location"]
    laptop.close()
    phone.close()


def test_idle_and_absolute_session_time_outs(clock, make_rp, person):
    broker, rp = clock, make_rp()
    ua = UserAgent(broker)
    ua.authorize(rp.authorization_url(), email=person)
    broker.travel(timedelta(minutes=59))
    assert not ua.go(rp.authorization_url()).startswith(broker.url)  # still signed in, and touched
    broker.travel(timedelta(minutes=61))
    assert "/sign-in/" in ua.go(rp.authorization_url())  # idle for over an hour
    ua.authorize(ua.go(rp.authorization_url()), email=person)
    for _ in range(14):  # active every 55 minutes, but 12 hours is the most a session lives
        broker.travel(timedelta(minutes=55))
        here = ua.go(rp.authorization_url())
    assert "/sign-in/" in here
    ua.close()
