"""Lifetimes are settings, each defined once in broker/config.py with its bounds."""

from __future__ import annotations

import os

import pytest

from broker.config import SettingsError, load_settings


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (None, 30 * 86400),  # the default: 30 days
        ("3600", 3600),  # an hour is the shortest
        ("7776000", 7776000),
        ("3599", None),
        ("-1", None),
        ("thirty days", None),
    ],
)
def test_the_refresh_token_lifetime(monkeypatch: pytest.MonkeyPatch, value: str | None, accepted: int | None) -> None:
    for name in [n for n in os.environ if n.startswith("BROKER_")]:
        monkeypatch.delenv(name)
    if value is not None:
        monkeypatch.setenv("BROKER_REFRESH_TOKEN_TTL", value)
    if accepted is None:
        with pytest.raises(SettingsError, match="BROKER_REFRESH_TOKEN_TTL"):
            load_settings()
    else:
        assert load_settings().refresh_token_ttl == accepted
