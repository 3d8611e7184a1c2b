"""The page tests drive the live broker over HTTP, as the end-to-end tests do (the same fixtures)."""

from tests.e2e.conftest import agent, broker, hashing_cost, make_rp, person

__all__ = ["agent", "broker", "hashing_cost", "make_rp", "person"]
