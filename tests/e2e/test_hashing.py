"""Password hashing under a burst: sign-ins wait for a turn without holding worker threads, so other
endpoints keep answering; no more than the bound hash at once; past the queue, "try again in a minute"."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from argon2 import PasswordHasher

from broker.accounts.passwords import PasswordService
from tests.e2e.test_throttling import from_address


class SlowHasher(PasswordHasher):
    """A hasher made slow on purpose, counting how many hash at once; each hash also waits until
    ``gate`` opens, so a test can hold the hashing while it tries other endpoints."""

    def __init__(self, delay: float) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.delay, self.now, self.most, self.lock = delay, 0, 0, threading.Lock()
        self.gate = threading.Event()

    def _slowly(self, work):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            self.gate.wait(timeout=30)
            time.sleep(self.delay)
            return work()
        finally:
            with self.lock:
                self.now -= 1

    def hash(self, password, *, salt=None):
        return self._slowly(lambda: super(SlowHasher, self).hash(password, salt=salt))

    def verify(self, hash, password):
        return self._slowly(lambda: super(SlowHasher, self).verify(hash, password))


def test_a_burst_of_sign_ins_never_starves_other_endpoints(broker, make_rp, person):
    rp = make_rp()
    slow = SlowHasher(delay=0.2)
    usual, broker.services.passwords = broker.services.passwords, PasswordService(2, 4, slow)
    # More than the server's 40 worker threads, from an address of their own (its counts stay there).
    transport = httpx.HTTPTransport(local_address="127.0.0.31", limits=httpx.Limits(max_connections=100))
    agents = [from_address(broker, "127.0.0.31", transport) for _ in range(60)]
    try:
        with ThreadPoolExecutor(8) as pool:
            pages = list(pool.map(lambda a: a.go(rp.authorization_url()), agents))

        def guess(i: int) -> httpx.Response:
            return agents[i].post(pages[i], {"email": f"nobody-{i}-{person}", "password": "guess"})

        with ThreadPoolExecutor(len(agents)) as pool:
            sent = [pool.submit(guess, i) for i in range(len(agents))]
            while slow.now == 0:
                time.sleep(0.01)
            # Hashing is held: the sign-ins that got a turn are stuck in it, the rest wait for one.
            ready = httpx.get(f"{broker.url}/readyz", timeout=10)
            still_waiting = sum(not f.done() for f in sent)
            slow.gate.set()
            assert ready.status_code == 200
            assert still_waiting >= 2  # it answered while sign-ins were hashing or waiting to
            answers = [f.result() for f in sent]
    finally:
        broker.services.passwords = usual
        transport.close()
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {400, 429}, statuses  # wrong passwords or "too busy"; no 500s
    assert statuses.count(400) >= 2  # some were checked
    busy = [a for a in answers if "Try again in a minute" in a.text]
    assert busy and all(a.status_code == 429 for a in busy)
    assert slow.most <= 2
