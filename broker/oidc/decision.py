"""The authorize decision (pure): issue a code now, or what the person must do first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from broker.errors import ProtocolError
from broker.oidc.errors import AccessDenied, ConsentRequired, InteractionRequired, LoginRequired
from broker.oidc.vtr import TrustRequest, auth_satisfies, best_identity_level

Outcome = Literal["issue", "login", "prove", "consent", "deny"]


@dataclass(frozen=True)
class SessionFacts:
    level: str
    auth_time: datetime


@dataclass(frozen=True)
class AuthorizeFacts:
    now: datetime
    session: SessionFacts | None
    fresh_login: bool  # signed in during this very authorization request
    prompts: frozenset[str]
    max_age: int | None
    trust: TrustRequest
    identity_level: str
    identity_attempted: bool  # the person went through proofing during this request
    return_codes_requested: bool  # the service asked for returnCode: it hears why, not access_denied
    unconsented_claims: frozenset[str]
    consent_just_given: bool
    # OIDC Core §3.1.2.1: the id_token_hint names someone other than the person signed in here.
    hint_names_another: bool = False


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    error: type[ProtocolError] | None = None  # the error to send instead of showing a page

    @property
    def interactive(self) -> bool:
        return self.outcome in ("login", "prove", "consent")


def _needs_login(facts: AuthorizeFacts) -> tuple[str, type[ProtocolError]] | None:
    """Why the person must go through the sign-in pages, and the error ``prompt=none`` answers instead
    (OIDC Core §3.1.2.6: ``login_required`` to authenticate afresh, ``interaction_required`` when the
    person is signed in and only a step-up of the second factor is missing)."""
    session = facts.session
    if session is None:
        return "no session", LoginRequired
    if not facts.fresh_login:
        if "login" in facts.prompts or "select_account" in facts.prompts:
            return "prompt asks for a new sign-in", LoginRequired
        if facts.max_age is not None and (facts.now - session.auth_time).total_seconds() > facts.max_age:
            return "max_age exceeded", LoginRequired
        if facts.hint_names_another:
            return "id_token_hint names another person", LoginRequired
    if not auth_satisfies(session.level, facts.trust.auth):
        return f"session is {session.level}, request needs {facts.trust.auth}", InteractionRequired
    return None


def decide(facts: AuthorizeFacts) -> Decision:
    silent = "none" in facts.prompts
    login = _needs_login(facts)
    if login:
        reason, silent_error = login
        return Decision("login", reason, silent_error if silent else None)
    reached = best_identity_level(facts.identity_level, facts.trust.identity_levels)
    # One Login's contract: a service that asked for returnCode gets, after a failed attempt, a sign-in
    # without the identity and the codes saying why. Never a weaker identity passed off as stronger.
    codes_instead = facts.identity_attempted and facts.return_codes_requested
    if facts.trust.wants_identity and not reached and not codes_instead:
        if facts.identity_attempted:
            return Decision("deny", "identity confidence below the level asked", AccessDenied)
        # Proving is a page of its own, neither sign-in nor consent (OIDC Core §3.1.2.6).
        return Decision(
            "prove", "identity confidence below the level asked", InteractionRequired if silent else None
        )
    if facts.unconsented_claims or ("consent" in facts.prompts and not facts.consent_just_given):
        return Decision("consent", "consent needed", ConsentRequired if silent else None)
    return Decision("issue", "all checks passed")
