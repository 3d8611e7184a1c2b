"""Settings, read from the environment (prefix ``BROKER_``).

There is no module-level instance: ``create_app`` and the CLI build one and pass it down.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError as PydanticSettingsError

from vouching.rules import DEFAULT_VOUCHING, VouchingPolicy


class SettingsError(Exception):
    """A setting is invalid; the message is one line naming it."""


LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BROKER_", extra="ignore", frozen=True)

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/broker.db"
    issuer: str = "http://localhost:8000"
    redis_url: str | None = None
    key_encryption_key_file: Path = Path("./var/key-encryption-key")
    notify_api_key: str | None = None
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    # Our template names → GOV.UK Notify template ids (JSON in BROKER_NOTIFY_TEMPLATES).
    notify_templates: dict[str, str] = Field(default_factory=dict)
    # Proxies whose X-Forwarded-For / -Proto are believed (comma-separated addresses; empty trusts none).
    trusted_proxies: str = ""
    # May the broker call loopback and private addresses that relying services register (back-channel
    # logout, security events, jwks_uri)? Unset: yes outside production, no in production.
    outbound_allow_private: bool | None = None
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    # Lifetimes, in seconds.
    authorization_code_ttl: int = Field(default=60, ge=1, le=60)
    access_token_ttl: int = Field(default=180, ge=30, le=3600)
    id_token_ttl: int = Field(default=600, ge=60, le=86400)
    refresh_token_ttl: int = Field(default=30 * 86400, ge=3600)
    session_idle_ttl: int = Field(default=3600, ge=60)
    session_max_ttl: int = Field(default=12 * 3600, ge=300)
    # Authlib and most client libraries default to one hour.
    client_assertion_max_age: int = Field(default=3600, ge=30)

    # How long someone who lost their second factor waits before setting up a new one (hours).
    factor_reset_wait_hours: int = Field(default=72, ge=0, le=24 * 30)

    # The name people see on every page, in English and in Welsh, and extra footer links as JSON
    # [{"text": ..., "href": ...}].
    service_name: str = Field(default="Sign in to public services", min_length=1, max_length=80)
    service_name_cy: str = Field(default="Mewngofnodi i wasanaethau cyhoeddus", min_length=1, max_length=80)
    footer_links: list[dict[str, str]] = Field(default_factory=list)
    # The operator's logo (an .svg or .png file) shown in the header beside the name.
    logo_file: Path | None = None
    # The GOV.UK phase banner ("none" shows none) and where its feedback link leads (optional).
    phase: Literal["alpha", "beta", "none"] = "none"
    feedback_url: str | None = Field(default=None, max_length=500)
    # Who runs the service, as the accessibility statement, privacy notice and cookies page name them.
    organisation_name: str = Field(default="The organisation that runs this service", min_length=1, max_length=120)
    organisation_name_cy: str = Field(default="Y sefydliad sy'n rhedeg y gwasanaeth hwn", min_length=1, max_length=120)
    contact_email: str | None = Field(default=None, max_length=254)
    # The accessibility statement's dates: first prepared, and last reviewed; the privacy notice's last update.
    accessibility_prepared: date | None = None
    accessibility_reviewed: date | None = None
    privacy_updated: date | None = None

    # Trust mark published in ID tokens' vtm claim; defaults to the issuer's trustmark URL.
    trustmark_url: str | None = None

    # Social vouching thresholds (defaults and their sources: docs/vouching.md).
    # Each default is VouchingPolicy's own (vouching/rules.py), so a rule's default changes in one place.
    vouching_min_known_years: int = Field(default=DEFAULT_VOUCHING.min_known_years, ge=1)
    vouching_min_vouchers: int = Field(default=DEFAULT_VOUCHING.min_vouchers, ge=2)
    vouching_max_per_year: int = Field(default=DEFAULT_VOUCHING.max_vouches_per_year, ge=1)
    vouching_max_per_year_referee: int = Field(default=DEFAULT_VOUCHING.max_vouches_per_year_referee, ge=1)
    vouching_cooling_off_days: int = Field(default=DEFAULT_VOUCHING.cooling_off.days, ge=0)
    vouching_voucher_proven_within_days: int = Field(default=DEFAULT_VOUCHING.voucher_proven_within.days, ge=30)
    vouching_invitation_days: int = Field(default=DEFAULT_VOUCHING.invitation_lifetime.days, ge=1)

    @field_validator("logo_file")
    @classmethod
    def _logo_is_an_image(cls, value: Path | None) -> Path | None:
        if value is not None:
            if value.suffix.lower() not in LOGO_TYPES:
                raise ValueError("must be an .svg or .png file")
            if not value.is_file():
                raise ValueError(f"no such file: {value}")
        return value

    @field_validator("feedback_url")
    @classmethod
    def _feedback_is_a_link(cls, value: str | None) -> str | None:
        if value is not None and not (
            (urlsplit(value).scheme in ("http", "https") and urlsplit(value).netloc)
            or re.fullmatch(r"mailto:[^@\s]+@[^@\s]+", value)
        ):
            raise ValueError("must be an http(s) URL or a mailto: address")
        return value

    @field_validator("contact_email")
    @classmethod
    def _contact_is_an_address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError("must be an email address")
        return value

    @field_validator("accessibility_prepared", "accessibility_reviewed", "privacy_updated")
    @classmethod
    def _plausible_date(cls, value: date | None) -> date | None:
        if value is not None and not date(2000, 1, 1) <= value <= date(2100, 12, 31):
            raise ValueError("must be a date between 2000 and 2100 (YYYY-MM-DD)")
        return value

    @field_validator("issuer")
    @classmethod
    def _issuer_is_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @property
    def issuer_is_https(self) -> bool:
        return self.issuer.startswith("https://")

    @property
    def outbound_allows_private(self) -> bool:
        """Whether URIs relying services register may lead to loopback or private addresses."""
        if self.outbound_allow_private is None:
            return self.env != "production"
        return self.outbound_allow_private

    @property
    def operator_approves_agreements(self) -> bool:
        """Whether `broker clients create` puts a service's first agreement in force (development and
        test), rather than leaving a draft for two people to complete and approve (production)."""
        return self.env != "production"

    @property
    def vtm(self) -> str:
        return self.trustmark_url or f"{self.issuer}/trustmark"

    def vouching_policy(self) -> VouchingPolicy:
        return VouchingPolicy(
            min_known_years=self.vouching_min_known_years,
            min_vouchers=self.vouching_min_vouchers,
            max_vouches_per_year=self.vouching_max_per_year,
            max_vouches_per_year_referee=self.vouching_max_per_year_referee,
            cooling_off=timedelta(days=self.vouching_cooling_off_days),
            voucher_proven_within=timedelta(days=self.vouching_voucher_proven_within_days),
            invitation_lifetime=timedelta(days=self.vouching_invitation_days),
        )

    @property
    def max_signed_token_ttl(self) -> int:
        """How long a retired key must stay published: the longest-lived thing it signed."""
        return max(self.id_token_ttl, self.access_token_ttl, 3600)


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning a validation error into one line naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "BROKER_" + str(first["loc"][0]).upper() if first["loc"] else "BROKER_*"
        raise SettingsError(f"invalid setting {name}: {first['msg']}") from None
    except PydanticSettingsError as exc:  # a JSON-valued setting that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        name = "BROKER_" + field.group(1).upper() if field else "BROKER_*"
        raise SettingsError(f"invalid setting {name}: not valid JSON") from None
