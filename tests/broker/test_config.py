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


# The service frame: the name in English and Welsh, the phase banner, and who runs the service.
@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("SERVICE_NAME", None, "Sign in to public services"),
        ("SERVICE_NAME_CY", None, "Mewngofnodi i wasanaethau cyhoeddus"),
        ("SERVICE_NAME_CY", "Mewngofnodi i Gyngor Enghraifft", "Mewngofnodi i Gyngor Enghraifft"),
        ("SERVICE_NAME_CY", "", None),
        ("SERVICE_NAME_CY", "x" * 81, None),
        ("PHASE", None, "none"),
        ("PHASE", "beta", "beta"),
        ("PHASE", "gamma", None),
        ("FEEDBACK_URL", "https://example.gov/feedback", "https://example.gov/feedback"),
        ("FEEDBACK_URL", "mailto:feedback@example.gov", "mailto:feedback@example.gov"),
        ("FEEDBACK_URL", "javascript:alert(1)", None),
        ("FEEDBACK_URL", "https://example.gov/" + "x" * 500, None),
        ("ORGANISATION_NAME", "x" * 121, None),
        ("ORGANISATION_NAME_CY", "", None),
        ("CONTACT_EMAIL", "help@example.gov", "help@example.gov"),
        ("CONTACT_EMAIL", "not an address", None),
        ("ACCESSIBILITY_PREPARED", "2026-11-30", "2026-11-30"),
        ("ACCESSIBILITY_REVIEWED", "1999-12-31", None),
        ("PRIVACY_UPDATED", "30/11/2026", None),
    ],
)
def test_the_service_frame_settings(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str | None, accepted: str | None
) -> None:
    for env in [n for n in os.environ if n.startswith("BROKER_")]:
        monkeypatch.delenv(env)
    if value is not None:
        monkeypatch.setenv(f"BROKER_{name}", value)
    if accepted is None:
        with pytest.raises(SettingsError, match=f"BROKER_{name}"):
            load_settings()
    else:
        assert str(getattr(load_settings(), name.lower())) == accepted
