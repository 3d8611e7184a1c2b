"""Release at token and userinfo time: the MOU and consent are checked again, so an agreement
suspended or expired after the person agreed stops the flow, and every release is written to the
ledger."""

from __future__ import annotations

from typing import Any

from broker.errors import BrokerError
from broker.identity.service import level as identity_level
from broker.oidc.context import OidcContext
from broker.policy.mou import in_force
from broker.policy.release import Agreement
from broker.policy.service import agreement_for, record_release, release_for
from broker.store.models import Grant


class AgreementNotInForce(BrokerError):
    status = 403
    code = "insufficient_scope"
    render = "bearer"
    title = "The service's data sharing agreement is not in force"


def agreement_in_force(ctx: OidcContext, grant: Grant) -> Agreement | None:
    """The agreement governing the grant's service, if it is in force now; else None."""
    agreement = agreement_for(ctx.db, grant.client_id)
    if agreement is None or not in_force(agreement.status, agreement.terms, ctx.clock()):
        return None
    return agreement


def releasable(ctx: OidcContext, grant: Grant, asked: dict[str, Any]) -> tuple[dict[str, Any], Agreement]:
    """The requested claims (name → request spec) the release decision allows now."""
    now = ctx.clock()
    release, agreement = release_for(
        ctx.db,
        account_id=grant.account_id,
        client_id=grant.client_id,
        requested=set(asked),
        identity_level=identity_level(ctx.db, grant.account_id, now.date()),
        now=now,
    )
    if agreement is None or not in_force(agreement.status, agreement.terms, now):
        raise AgreementNotInForce()
    return {k: v for k, v in asked.items() if k in release.released}, agreement


def record(ctx: OidcContext, grant: Grant, agreement: Agreement, released: set[str], endpoint: str) -> None:
    record_release(
        ctx.db,
        account_id=grant.account_id,
        client_id=grant.client_id,
        agreement=agreement,
        claims=released - {"sub"},
        endpoint=endpoint,
        grant_id=grant.id,
        now=ctx.clock(),
    )
