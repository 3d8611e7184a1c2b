"""The vouching policy's defaults are written once (vouching/rules.py) and the settings start from them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from broker.config import Settings
from vouching.rules import DEFAULT_VOUCHING, VouchingPolicy


@pytest.mark.parametrize(
    ("setting", "policy_field", "as_policy"),
    [
        ("vouching_min_known_years", "min_known_years", lambda v: v),
        ("vouching_min_vouchers", "min_vouchers", lambda v: v),
        ("vouching_max_per_year", "max_vouches_per_year", lambda v: v),
        ("vouching_max_per_year_referee", "max_vouches_per_year_referee", lambda v: v),
        ("vouching_cooling_off_days", "cooling_off", lambda v: timedelta(days=v)),
        ("vouching_voucher_proven_within_days", "voucher_proven_within", lambda v: timedelta(days=v)),
        ("vouching_invitation_days", "invitation_lifetime", lambda v: timedelta(days=v)),
    ],
)
def test_each_setting_defaults_to_the_policys_own_default(setting, policy_field, as_policy) -> None:
    default = Settings.model_fields[setting].default
    assert as_policy(default) == getattr(DEFAULT_VOUCHING, policy_field)


def test_the_default_policy_is_the_policy_with_no_arguments() -> None:
    assert DEFAULT_VOUCHING == VouchingPolicy()
    assert DEFAULT_VOUCHING.max_vouches_per_year == 3
