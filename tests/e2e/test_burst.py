"""A burst of people arriving at once, more than the server has worker threads: every page answers,
none waits on the database. On SQLite a request whose transaction is still open holds the one write
lock; if ending it had to wait for a worker thread while every worker waited for the lock, the burst
would stall until the busy timeout and end in errors (it did, before ``broker.deps.get_db`` rolled
back SQLite sessions at once)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.test_throttling import from_address

PEOPLE = 100  # the threadpool has 40 threads


def test_a_burst_of_arrivals_all_reach_the_sign_in_page(broker, make_rp):
    rp = make_rp()
    transport = httpx.HTTPTransport(local_address="127.0.0.41", limits=httpx.Limits(max_connections=PEOPLE))
    agents = [from_address(broker, "127.0.0.41", transport) for _ in range(PEOPLE)]
    try:

        def arrive(agent) -> tuple[int, int]:
            first = agent.http.get(rp.authorization_url(), timeout=25)
            page = agent.http.get(first.headers["location"], timeout=25)
            return first.status_code, page.status_code

        with ThreadPoolExecutor(PEOPLE) as pool:
            answers = list(pool.map(arrive, agents))
    finally:
        transport.close()
    assert answers == [(303, 200)] * PEOPLE
