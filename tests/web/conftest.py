"""Page tests drive the live broker over HTTP, with the end-to-end tests' fixtures."""

from tests.e2e.conftest import (  # noqa: F401
    agent,
    broker,
    clock,
    hashing_cost,
    http,
    make_rp,
    person,
    receiver,
    rp,
)
