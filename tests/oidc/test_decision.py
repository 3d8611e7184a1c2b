"""The authorize decision: issue, sign in, consent, or deny (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from broker.oidc.decision import AuthorizeFacts, SessionFacts, decide
from broker.oidc.errors import AccessDenied, ConsentRequired, InteractionRequired, LoginRequired
from broker.oidc.vtr import TrustRequest

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SIGNED_IN = SessionFacts("Cl.Cm", NOW - timedelta(minutes=5))
BASE = AuthorizeFacts(
    now=NOW,
    session=SIGNED_IN,
    fresh_login=False,
    prompts=frozenset(),
    max_age=None,
    trust=TrustRequest("Cl.Cm", ()),
    identity_level="P0",
    identity_attempted=False,
    return_codes_requested=False,
    unconsented_claims=frozenset(),
    consent_just_given=False,
)


@pytest.mark.parametrize(
    ("changes", "outcome", "error"),
    [
        ({}, "issue", None),
        ({"session": None}, "login", None),
        ({"session": None, "prompts": frozenset({"none"})}, "login", LoginRequired),
        ({"session": SessionFacts("Cl", NOW)}, "login", None),
        # Signed in with a password only: a step-up, which prompt=none cannot show.
        (
            {"session": SessionFacts("Cl", NOW), "prompts": frozenset({"none"})},
            "login",
            InteractionRequired,
        ),
        (
            {
                "session": SessionFacts("Cl", NOW - timedelta(hours=1)),
                "max_age": 60,
                "prompts": frozenset({"none"}),
            },
            "login",
            LoginRequired,
        ),
        ({"session": SessionFacts("Cl", NOW), "trust": TrustRequest("Cl", ())}, "issue", None),
        ({"prompts": frozenset({"login"})}, "login", None),
        ({"prompts": frozenset({"login"}), "fresh_login": True}, "issue", None),
        ({"prompts": frozenset({"select_account"})}, "login", None),
        ({"max_age": 60}, "login", None),
        ({"max_age": 600}, "issue", None),
        ({"max_age": 60, "fresh_login": True}, "issue", None),
        ({"max_age": 60, "prompts": frozenset({"none"})}, "login", LoginRequired),
        # An id_token_hint about someone else: sign in afresh; prompt=none answers login_required.
        ({"hint_names_another": True}, "login", None),
        ({"hint_names_another": True, "prompts": frozenset({"none"})}, "login", LoginRequired),
        ({"hint_names_another": True, "fresh_login": True}, "issue", None),
        (
            {"hint_names_another": True, "session": None, "prompts": frozenset({"none"})},
            "login",
            LoginRequired,
        ),
        # Identity below the level asked: prove it, unless that was just tried or no page may be shown.
        ({"trust": TrustRequest("Cl.Cm", ("P2",))}, "prove", None),
        ({"trust": TrustRequest("Cl.Cm", ("P2",)), "identity_attempted": True}, "deny", AccessDenied),
        (
            {
                "trust": TrustRequest("Cl.Cm", ("P2",)),
                "identity_attempted": True,
                "return_codes_requested": True,
            },
            "issue",
            None,
        ),
        (
            {
                "trust": TrustRequest("Cl.Cm", ("P2",)),
                "identity_attempted": True,
                "return_codes_requested": True,
                "unconsented_claims": frozenset({"email"}),
            },
            "consent",
            None,
        ),
        (
            {"trust": TrustRequest("Cl.Cm", ("P2",)), "identity_level": "P1", "prompts": frozenset({"none"})},
            "prove",
            InteractionRequired,
        ),
        ({"trust": TrustRequest("Cl.Cm", ("P2",)), "session": None}, "login", None),
        ({"trust": TrustRequest("Cl.Cm", ("P2",)), "identity_level": "P2"}, "issue", None),
        ({"trust": TrustRequest("Cl.Cm", ("P2",)), "identity_level": "P3"}, "issue", None),
        ({"unconsented_claims": frozenset({"email"})}, "consent", None),
        (
            {"unconsented_claims": frozenset({"email"}), "prompts": frozenset({"none"})},
            "consent",
            ConsentRequired,
        ),
        ({"prompts": frozenset({"consent"})}, "consent", None),
        ({"prompts": frozenset({"consent"}), "consent_just_given": True}, "issue", None),
    ],
)
def test_decide(changes, outcome, error):
    decision = decide(replace(BASE, **changes))
    assert (decision.outcome, decision.error) == (outcome, error)
    assert decision.reason
    assert decision.interactive is (outcome in ("login", "prove", "consent"))
