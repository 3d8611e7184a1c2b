"""The background step that keeps the audit log anchored: every few seconds it seals the releases
written since the last seal into the chain (broker/audit/sealing.py), and every minute or so it checks
the entries written since its last checkpoint and signs a checkpoint of the head
(broker/audit/checkpoints.py). It runs in every broker process, like the outbox senders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from prometheus_client import Gauge
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broker.audit.chain import Broken, Head, walk_chain
from broker.audit.checkpoints import Checkpoints
from broker.audit.log import entries
from broker.audit.sealing import seal_releases
from broker.store.db import make_read_only_sessionmaker, transaction
from broker.store.models import AuditEvent
from broker.workers import PollingWorker

log = structlog.get_logger(__name__)

SEAL_SECONDS = 5.0


class AuditSealer(PollingWorker):
    name = "audit-sealer"
    interval = SEAL_SECONDS

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        key: bytes,
        checkpoints: Checkpoints,
        clock: Callable[[], datetime],
        *,
        checkpoint_every: timedelta,
        head_gauge: Gauge | None = None,
    ) -> None:
        super().__init__()
        self.session_factory = session_factory
        self.reader = make_read_only_sessionmaker(session_factory.kw["bind"])
        self.key = key
        self.checkpoints = checkpoints
        self.clock = clock
        self.checkpoint_every = checkpoint_every
        self.head_gauge = head_gauge
        self.checked: Head | None = None  # the head this process last checked and signed
        self.checkpointed_at: datetime | None = None

    def deliver_due(self) -> int:
        with transaction(self.session_factory) as db:
            sealed = seal_releases(db, self.clock())
        now = self.clock()
        if self.checkpointed_at is None or now - self.checkpointed_at >= self.checkpoint_every:
            self.checkpoint(now)
        return sealed.count if sealed else 0

    def checkpoint(self, now: datetime) -> Head | None:
        """Check the entries after the head last signed (all of them, the first time, from the newest
        checkpoint on file that still verifies), and sign the new head. A broken log is not signed:
        the error is logged, and ``broker audit verify`` names the entry."""
        start = self.checked or self.checkpoints.read().newest
        with self.reader() as db:
            at_start = db.scalar(select(AuditEvent.hash).where(AuditEvent.seq == start.seq)) if start else None
            if start is not None and at_start != start.hash:
                head: Head | Broken = Broken(start.seq, "the log does not hold the entry last checkpointed")
            else:
                head = walk_chain(entries(db, after=start.seq if start else 0), self.key, start=start)
        if isinstance(head, Broken):
            log.error("audit log broken: no checkpoint signed", seq=head.seq, reason=head.reason)
            return None
        self.checkpointed_at = now
        if head.seq == 0 or head == self.checked:
            return head  # nothing, or nothing new, to sign
        token = self.checkpoints.write(head, now)
        log.info("audit checkpoint", seq=head.seq, hash=head.hash, token=token)
        self.checked = head
        if self.head_gauge is not None:
            self.head_gauge.set(head.seq)
        return head
