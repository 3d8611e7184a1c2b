"""Password guessing over HTTP: counted atomically (concurrent guesses on PostgreSQL), a stranger only
blocks their own address, the owner still signs in from theirs, and the per-address limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from broker.accounts.throttle import (
    PASSWORD_PER_ACCOUNT,
    PASSWORD_PER_ACCOUNT_ADDRESS,
    PASSWORD_PER_ADDRESS,
    Throttle,
)
from tests.e2e.agent import PASSWORD, UserAgent


def from_address(broker, address: str, transport: httpx.HTTPTransport | None = None) -> UserAgent:
    """A browser on another machine: its requests come from ``address`` (any 127/8 address is local).
    Many browsers may share one ``transport`` bound to that address."""
    return UserAgent(broker, transport or httpx.HTTPTransport(local_address=address))


def fill(broker, limit, subject: str, times: int) -> None:
    with broker.db() as db:
        for _ in range(times):
            Throttle(db).fail(limit, subject, broker.services.clock())
        db.commit()


def test_a_stranger_blocks_their_own_address_and_never_the_owner(clock, make_rp, person):
    broker, rp = clock, make_rp()
    stranger, owner = from_address(broker, "127.0.0.3"), from_address(broker, "127.0.0.4")
    here = stranger.go(rp.authorization_url())
    for _ in range(PASSWORD_PER_ACCOUNT_ADDRESS.max_failures):
        assert stranger.post(here, {"email": person, "password": "guess"}).status_code == 400
    blocked = stranger.post(here, {"email": person, "password": PASSWORD})
    assert blocked.status_code == 429 and "Try again in 15 minutes" in blocked.text
    # The owner, from their own address, signs in as usual: the right password goes on.
    page = owner.go(rp.authorization_url())
    assert owner.post(page, {"email": person, "password": PASSWORD}).headers["location"].endswith("/code")
    stranger.close()
    owner.close()


def test_guesses_from_everywhere_guard_the_account_with_a_second_factor(broker, make_rp, person):
    """Many addresses guessing one account refuse no one; a password alone is then never enough."""
    rp = make_rp()
    fill(broker, PASSWORD_PER_ACCOUNT, person, PASSWORD_PER_ACCOUNT.max_failures)
    owner = from_address(broker, "127.0.0.5")
    page = owner.go(rp.authorization_url(vtr='["Cl"]'))
    response = owner.post(page, {"email": person, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"].endswith("/code")
    owner.close()


def test_many_guesses_from_one_address_block_that_address(broker, make_rp, person):
    rp = make_rp()
    fill(broker, PASSWORD_PER_ADDRESS, "127.0.0.6", PASSWORD_PER_ADDRESS.max_failures - 1)
    guesser = from_address(broker, "127.0.0.6")
    here = guesser.go(rp.authorization_url())
    assert guesser.post(here, {"email": "nobody@example.org", "password": "guess"}).status_code == 400
    assert guesser.post(here, {"email": person, "password": PASSWORD}).status_code == 429
    other = from_address(broker, "127.0.0.7")
    page = other.go(rp.authorization_url())
    assert other.post(page, {"email": person, "password": PASSWORD}).status_code == 303
    guesser.close()
    other.close()


def test_concurrent_wrong_passwords_are_all_counted(broker, make_rp, person):
    if not broker.settings.database_url.startswith("postgresql"):
        pytest.skip("concurrency is tested on PostgreSQL (SQLite runs one writer at a time)")
    rp = make_rp()
    guessers = [from_address(broker, "127.0.0.8") for _ in range(20)]
    pages = [g.go(rp.authorization_url()) for g in guessers]
    with ThreadPoolExecutor(len(guessers)) as pool:
        statuses = list(
            pool.map(
                lambda gp: gp[0].post(gp[1], {"email": person, "password": "guess"}).status_code,
                zip(guessers, pages, strict=True),
            )
        )
    assert set(statuses) <= {400, 429}, statuses  # no 500s
    assert statuses.count(400) <= PASSWORD_PER_ACCOUNT_ADDRESS.max_failures  # each guess counted once
    assert guessers[0].post(pages[0], {"email": person, "password": PASSWORD}).status_code == 429
    for g in guessers:
        g.close()
