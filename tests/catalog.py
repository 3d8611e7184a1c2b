"""Waiting for a broker's catalog listener (broker/store/catalog.py) in tests on PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, text

from broker.store.catalog import CHANNEL, Catalog


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {seconds:.0f} s")
        time.sleep(0.05)


def settle(engine: Engine, catalog: Catalog) -> None:
    """Wait until the listener has taken every change notice sent so far: notices arrive in commit
    order, so once it has one of our own, it has the rest."""
    mark = f"test-{uuid.uuid4().hex}"
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_notify(:channel, :mark)"), {"channel": CHANNEL, "mark": mark})
    wait_for(lambda: catalog.last_notice == mark)
