"""Back-channel logout (OIDC Back-Channel Logout 1.0) from a durable outbox.

Signing out writes one row per relying service; a sender delivers them with retries, so a slow or
dead service never blocks the person (a notice the service refuses is given up at once: the rules are
in :mod:`broker.oidc.backchannel_policy`). Rows are leased before sending, so several instances can run
senders side by side and a notice pending at a crash is delivered after restart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broker.observability_metrics import Metrics
from broker.oidc.backchannel_policy import Attempt, Outcome, decide
from broker.oidc.tokens import LOGOUT_TOKEN_TYP, logout_token_claims, new_jti
from broker.outbound.client import outbound_client
from broker.outbound.proxy import OutboundProxy

# Notices are queued by the grants service; these names stay here for the pages that import them.
from broker.policy.grants import end_everywhere, queue_logout_notices  # noqa: F401
from broker.policy.security_events import SET_TYP, event_claims
from broker.store.db import transaction
from broker.store.models import BackchannelLogout, Client
from broker.workers import PollingWorker
from keys import Signer

log = structlog.get_logger(__name__)

LEASE = timedelta(seconds=60)
SEND_TIMEOUT = 5.0  # each connect, write and read
SEND_BUDGET = 15.0  # the whole request, however slowly the service answers


@dataclass
class Delivery:
    id: str
    uri: str
    token: str
    kind: str = "logout"  # "logout": a form POST of logout_token; otherwise a pushed SET (RFC 8935)

    @property
    def metric_kind(self) -> str:
        return "logout" if self.kind == "logout" else "security_event"


class BackchannelSender(PollingWorker):
    name = "backchannel-logout"

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        signer: Signer,
        issuer: str,
        clock: Callable[[], datetime],
        *,
        allow_private_outbound: bool,
        proxy: OutboundProxy | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__()
        self.session_factory = session_factory
        self.signer = signer
        self.issuer = issuer
        self.clock = clock
        self.metrics = metrics
        self.http = outbound_client(
            allow_private=allow_private_outbound, timeout=SEND_TIMEOUT, total_timeout=SEND_BUDGET, proxy=proxy
        )
        if metrics is not None:  # every series from zero, so a rate is defined before the first failure
            for kind in ("logout", "security_event"):
                for outcome in Outcome:
                    metrics.backchannel.labels(kind, outcome.value)

    def _lease_due(self, limit: int) -> list[Delivery]:
        now = self.clock()
        with transaction(self.session_factory) as db:
            query = (
                select(BackchannelLogout, Client)
                .join(Client, Client.client_id == BackchannelLogout.client_id)
                .where(
                    BackchannelLogout.delivered_at.is_(None),
                    BackchannelLogout.gave_up_at.is_(None),
                    BackchannelLogout.next_attempt_at <= now,
                )
                .order_by(BackchannelLogout.next_attempt_at)
                .limit(limit)
            )
            if db.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=BackchannelLogout)
            leased = []
            for row, client in db.execute(query).all():
                row.next_attempt_at = now + LEASE
                leased.append(
                    (
                        row.id,
                        row.kind,
                        dict(row.event or {}),
                        client.client_id,
                        client.id_token_signed_response_alg,
                        client.backchannel_logout_uri or "",
                        client.security_event_uri or "",
                        row.sub,
                        row.session_id,
                    )
                )
        # Signed after the lease commits: a fresh jti and iat for every attempt.
        out = []
        for row_id, kind, event, client_id, alg, logout_uri, event_uri, sub, sid in leased:
            if kind == "logout":
                claims = logout_token_claims(
                    issuer=self.issuer, client_id=client_id, sub=sub, sid=sid, now=now
                )
                out.append(
                    Delivery(row_id, logout_uri, self.signer.sign(claims, alg=alg, typ=LOGOUT_TOKEN_TYP))
                )
                continue
            claims = event_claims(
                kind, issuer=self.issuer, client_id=client_id, sub=sub, event=event, now=now, jti=new_jti()
            )
            out.append(Delivery(row_id, event_uri, self.signer.sign(claims, alg=alg, typ=SET_TYP), kind))
        return out

    def deliver_due(self, limit: int = 20) -> int:
        deliveries = self._lease_due(limit)
        for delivery in deliveries:
            outcome = self._record(delivery, self._post(delivery))
            if outcome is not None and self.metrics is not None:
                self.metrics.backchannel.labels(delivery.metric_kind, outcome.value).inc()
        return len(deliveries)

    def _post(self, delivery: Delivery) -> Attempt:
        """The status the service answered (only the status is read: the body is never needed), or why
        there was none. A redirect is not followed, nor is an address the outbound rule refuses called."""
        if delivery.kind == "logout":
            request = self.http.build_request("POST", delivery.uri, data={"logout_token": delivery.token})
        else:
            request = self.http.build_request(
                "POST",
                delivery.uri,
                content=delivery.token,
                headers={"Content-Type": "application/secevent+jwt", "Accept": "application/json"},
            )
        try:
            response = self.http.send(request, stream=True)
            response.close()
        except httpx.HTTPError as exc:
            return Attempt(failure=type(exc).__name__)
        return Attempt(status=response.status_code)

    def _record(self, delivery: Delivery, attempt: Attempt) -> Outcome | None:
        """Record the attempt; how the notice ended, or None while it is still being tried."""
        now = self.clock()
        with transaction(self.session_factory) as db:
            row = db.get(BackchannelLogout, delivery.id)
            if row is None:
                return None
            row.attempts += 1
            decision = decide(attempt, row.attempts, now)
            if decision.error is not None:
                row.last_error = decision.error
            if decision.outcome is Outcome.DELIVERED:
                row.delivered_at = now
            elif decision.outcome is None:
                row.next_attempt_at = decision.retry_at or now
            else:
                row.gave_up_at = now
                # The client and the kind of failure only: never the URI, the sub or the session.
                log.warning(
                    "back-channel notice given up",
                    client_id=row.client_id,
                    kind=delivery.metric_kind,
                    outcome=decision.outcome.value,
                    attempts=row.attempts,
                    error=decision.error,
                )
        return decision.outcome
