"""The console's pages are tested against the live broker the end-to-end tests use."""

from tests.e2e.conftest import broker, hashing_cost  # noqa: F401
