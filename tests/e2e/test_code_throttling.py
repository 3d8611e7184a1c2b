"""Security codes guessed over HTTP by someone who has the password: they block only their own address,
the owner signs in with their code from theirs, and guessing from many addresses that reaches the
account's ceiling leaves the owner their backup method."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from broker.accounts.throttle import CODE_PER_ACCOUNT, CODE_PER_ACCOUNT_ADDRESS, Throttle
from broker.store.models import Account
from tests.e2e.agent import PASSWORD, UserAgent, latest_code

SQLITE_ONLY = pytest.mark.parametrize("broker", ["sqlite"], indirect=True)  # storage plays no part


def from_address(broker, address: str) -> UserAgent:
    """A browser on another machine: its requests come from ``address`` (any 127/8 address is local)."""
    return UserAgent(broker, httpx.HTTPTransport(local_address=address))


def to_code_page(ua: UserAgent, rp, email: str) -> str:
    here = ua.go(rp.authorization_url())
    here = ua.submit(here, {"email": email, "password": PASSWORD})
    assert here.endswith("/code"), ua.last_page[:300]
    return here


def account_id(broker, email: str) -> str:
    with broker.db() as db:
        return db.scalars(select(Account.id).where(Account.email == email)).one()


@SQLITE_ONLY
def test_an_attacker_with_the_password_cannot_lock_the_owner_out_of_their_codes(clock, make_rp, person):
    broker, rp = clock, make_rp()
    attacker, owner = from_address(broker, "127.0.0.8"), from_address(broker, "127.0.0.9")
    code_page = to_code_page(attacker, rp, person)
    statuses = [
        attacker.post(code_page, {"code": "000000"}).status_code
        for _ in range(CODE_PER_ACCOUNT_ADDRESS.max_failures)
    ]
    assert statuses == [400] * (CODE_PER_ACCOUNT_ADDRESS.max_failures - 1) + [429]
    refused = attacker.post(code_page, {"code": latest_code(broker, person)})  # even the right code
    assert refused.status_code == 429 and "You have tried too many times" in refused.text

    # The owner, in their own browser at their own address, signs in with their code as usual.
    callback = owner.authorize(rp.authorization_url(), email=person)
    assert "code" in callback.params, callback.url
    # And the attacker, starting again, is still refused at their address.
    again = to_code_page(attacker, rp, person)
    assert attacker.post(again, {"code": latest_code(broker, person)}).status_code == 429
    attacker.close()
    owner.close()


@SQLITE_ONLY
def test_at_the_account_ceiling_the_owner_signs_in_with_the_backup_method(clock, make_rp, person):
    """Guessing from many addresses closes the main codes for the account; the backup phone still works."""
    broker, rp = clock, make_rp()
    with broker.db() as db:
        account = db.scalars(select(Account).where(Account.email == person)).one()
        account.backup_method, account.phone_number = "sms", "+447700900123"
        db.commit()
    who = account_id(broker, person)
    with broker.db() as db:  # many addresses' wrong codes, as the ceiling counts them
        for _ in range(CODE_PER_ACCOUNT.max_failures):
            Throttle(db).fail(CODE_PER_ACCOUNT, who, broker.services.clock())
        db.commit()
    owner = from_address(broker, "127.0.0.10")
    code_page = to_code_page(owner, rp, person)
    closed = owner.post(code_page, {"code": latest_code(broker, person)})
    assert closed.status_code == 429 and "backup method or a passkey" in closed.text

    here = owner.submit(owner.go(code_page.removesuffix("/code") + "/backup"), {})  # "Send the code"
    assert here.endswith("/backup/code"), (here, owner.last_page[:300])
    consent = owner.submit(here, {"code": latest_code(broker, "+447700900123")})
    assert "/consent/" in consent, owner.last_page[:300]  # signed in: the service's request goes on
    callback = owner.submit(consent, {"decision": "agree"})
    assert callback.startswith(rp.redirect_uri) and "code=" in callback, owner.last_page[:300]
    owner.close()
