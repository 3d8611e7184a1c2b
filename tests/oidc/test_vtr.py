"""Vectors of trust as One Login reads them (RFC 8485; One Login's vtr rules)."""

from __future__ import annotations

import pytest

from broker.oidc.vtr import TrustRequest, VtrInvalid, auth_satisfies, best_identity_level, parse_vtr


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, TrustRequest("Cl.Cm", ())),
        ("", TrustRequest("Cl.Cm", ())),
        ("[]", TrustRequest("Cl.Cm", ())),
        ('["Cl"]', TrustRequest("Cl", ())),
        ('["Cl.Cm"]', TrustRequest("Cl.Cm", ())),
        ('["Cm.Cl"]', TrustRequest("Cl.Cm", ())),
        ('["Cl.Cm.P2"]', TrustRequest("Cl.Cm", ("P2",))),
        ('["P2.Cm.Cl"]', TrustRequest("Cl.Cm", ("P2",))),
        ('["Cl.Cm.P0"]', TrustRequest("Cl.Cm", ())),
        ('["Cl.Cm.P1", "Cl.Cm.P2"]', TrustRequest("Cl.Cm", ("P1", "P2"))),
    ],
)
def test_valid_vectors(raw, expected):
    assert parse_vtr(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "Cl.Cm",  # not a JSON array
        '"Cl.Cm"',
        "[1]",
        '{"a": 1}',
        '["Cl.P2"]',  # identity without a second factor
        '["P2"]',
        '["Cm"]',  # no credential
        '["Cl.Cl"]',
        '["Cl..Cm"]',
        '["Cl.Cm.P4"]',
        '["Cl.Cm.P1.P2"]',
        '["Cl.Cm.Xx"]',
        '["Cl", "Cl.Cm"]',  # vectors disagree on authentication
        '["Cl.Cm", "Cl.Cm.P2"]',  # mixes identity and none
    ],
)
def test_invalid_vectors(raw):
    with pytest.raises(VtrInvalid):
        parse_vtr(raw)


@pytest.mark.parametrize(
    ("achieved", "required", "ok"),
    [("Cl", "Cl", True), ("Cl.Cm", "Cl", True), ("Cl", "Cl.Cm", False), ("Cl.Cm", "Cl.Cm", True)],
)
def test_authentication_levels(achieved, required, ok):
    assert auth_satisfies(achieved, required) is ok


@pytest.mark.parametrize(
    ("held", "accepted", "best"),
    [
        ("P0", ("P2",), None),
        ("P1", ("P2",), None),
        ("P2", ("P2",), "P2"),
        ("P3", ("P2",), "P2"),
        ("P3", ("P1", "P2"), "P2"),
        ("P1", ("P1", "P2"), "P1"),
    ],
)
def test_best_identity_level(held, accepted, best):
    assert best_identity_level(held, accepted) == best
