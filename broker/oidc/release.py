"""Release at token and userinfo time: the MOU and consent are checked again, so an agreement
suspended or expired after the person agreed stops the flow, and every release is written to the
ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from broker.identity.service import level as identity_level
from broker.oidc.context import OidcContext
from broker.oidc.errors import InsufficientScope
from broker.policy.mou import LEVELS, in_force
from broker.policy.release import ALWAYS, Agreement, Release, decide
from broker.policy.service import record_release
from broker.store.models import Grant


class AgreementNotInForce(InsufficientScope):
    title = "The service's data sharing agreement is not in force"


def agreement_in_force(ctx: OidcContext, grant: Grant) -> Agreement | None:
    """The agreement governing the grant's service, if it is in force now; else None."""
    agreement = ctx.agreement(grant.client_id)
    if agreement is None or not in_force(agreement.status, agreement.terms, ctx.clock()):
        return None
    return agreement


def release_decision(
    ctx: OidcContext,
    *,
    account_id: str,
    client_id: str,
    requested: set[str] | frozenset[str],
    identity_level: Callable[[], str],
    now: datetime,
) -> Release:
    """The release decision (``broker.policy.release.decide``), reading only the facts it will use:
    consent when some claim is asked under an agreement in force, the identity level when an asked
    claim's term needs more than P0. Its answer is the same as with every fact read."""
    agreement = ctx.agreement(client_id)
    wanted = frozenset(requested) - ALWAYS
    consent, level = None, LEVELS[0]
    if wanted and agreement is not None and in_force(agreement.status, agreement.terms, now):
        consent = ctx.consent(account_id, client_id)
        terms = [agreement.terms.attribute(claim) for claim in wanted]
        if any(term is not None and LEVELS.index(term.min_level) > 0 for term in terms):
            level = identity_level()
    return decide(agreement, frozenset(requested), consent, level, now)


def releasable(ctx: OidcContext, grant: Grant, asked: dict[str, Any]) -> tuple[dict[str, Any], Agreement]:
    """The requested claims (name → request spec) the release decision allows now."""
    now = ctx.clock()
    agreement = agreement_in_force(ctx, grant)
    if agreement is None:
        raise AgreementNotInForce()
    release = release_decision(
        ctx,
        account_id=grant.account_id,
        client_id=grant.client_id,
        requested=set(asked),
        identity_level=lambda: identity_level(ctx.db, grant.account_id, now.date()),
        now=now,
    )
    return {k: v for k, v in asked.items() if k in release.released}, agreement


def record(ctx: OidcContext, grant: Grant, agreement: Agreement, released: set[str], endpoint: str) -> None:
    consent = ctx.consent(grant.account_id, grant.client_id) if released - ALWAYS else None
    record_release(
        ctx.db,
        account_id=grant.account_id,
        client_id=grant.client_id,
        agreement=agreement,
        consent_id=consent.consent_id if consent else None,
        claims=released - {"sub"},
        endpoint=endpoint,
        grant_id=grant.id,
        now=ctx.clock(),
    )
