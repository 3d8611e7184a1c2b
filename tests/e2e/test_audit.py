"""The audit log over a whole story: wrong passwords and a lockout, a wrong code, a new factor, a
password reset. Each event names who did it, what, when and a keyed hash of where from; none holds a
password, a code or an address."""

from __future__ import annotations

import json

from sqlalchemy import select

from broker.accounts.throttle import PASSWORD_PER_ACCOUNT_ADDRESS
from broker.store.models import Account, AuditEvent
from tests.e2e.agent import PASSWORD, latest_code
from tests.e2e.authenticator import SoftAuthenticator
from tests.e2e.test_passkeys import add_passkey
from tests.e2e.test_throttling import from_address

GUESS = "guessed-Password-0451"
NEW_PASSWORD = "velvet otter cabbage lantern"
STORY = ("sign_in.failure", "lockout", "code.failed", "sign_in.success", "factor.set", "password.reset")


def test_the_audit_log_records_each_security_event_and_no_secret(broker, make_rp, person):
    rp = make_rp()
    stranger = from_address(broker, "127.0.0.21")
    here = stranger.go(rp.authorization_url())
    for _ in range(PASSWORD_PER_ACCOUNT_ADDRESS.max_failures):
        stranger.post(here, {"email": person, "password": GUESS})
    assert stranger.post(here, {"email": person, "password": GUESS}).status_code == 429

    owner = from_address(broker, "127.0.0.22")
    here = owner.go(rp.authorization_url())
    code_page = owner.post(here, {"email": person, "password": PASSWORD}).headers["location"]
    code = latest_code(broker, person)
    wrong = "000000" if code != "000000" else "111111"
    assert owner.post(code_page, {"code": wrong}).status_code == 400
    owner.authorize(owner.submit(code_page, {"code": code}))
    assert add_passkey(owner, SoftAuthenticator(broker.url), "Laptop").status_code == 200

    reset = owner.go(rp.authorization_url(prompt="login")).replace("/sign-in/", "/reset-password/")
    here = owner.submit(reset, {"email": person})
    reset_code = latest_code(broker, person)
    here = owner.submit(here, {"code": reset_code})
    owner.submit(here, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert "Your password has been changed" in owner.last_page

    with broker.db() as db:
        account = db.scalars(select(Account).where(Account.email == person)).one()
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.subject == account.id).order_by(AuditEvent.seq)
        ).all()
    actions = [e.action for e in events]
    for expected in STORY:
        assert expected in actions, (expected, actions)
    assert actions.count("sign_in.failure") == PASSWORD_PER_ACCOUNT_ADDRESS.max_failures
    stranger_hash = {e.client_hash for e in events if e.action == "sign_in.failure"}
    owner_hash = {
        e.client_hash for e in events if e.action in ("code.failed", "sign_in.success", "factor.set")
    }
    assert (
        len(stranger_hash) == len(owner_hash) == 1 and stranger_hash != owner_hash
    )  # linkable, not readable
    for e in events:
        if e.action in STORY:
            assert e.actor and e.at and e.client_hash and e.client_hash.startswith("k1:"), e.action
        stored = json.dumps([e.actor, e.subject, e.client_hash, e.details])
        for secret in (GUESS, PASSWORD, NEW_PASSWORD, code, wrong, reset_code, "127.0.0.2", person):
            assert secret not in stored, (e.action, secret)
    stranger.close()
    owner.close()
