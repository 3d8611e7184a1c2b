"""The broker's Prometheus metrics (a registry per app, so nothing global)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """One registry per app (no global state: two apps in one process keep separate counts)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "broker_http_requests_total",
            "HTTP requests",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "broker_http_request_seconds",
            "HTTP request latency",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.events = Gauge(
            "broker_audit_events",
            "Audit events recorded, by action (sign-ins, failures, lockouts, factor changes, resets)",
            ["action"],
            registry=self.registry,
        )
        self.audit_head = Gauge(
            "broker_audit_checkpoint_seq",
            "The audit log's head (entry number) at this process's last signed checkpoint: a drop, or a"
            " checkpoint file behind it, shows entries removed",
            registry=self.registry,
        )
        self.releases = Gauge(
            "broker_attribute_releases",
            "Attribute releases recorded in the ledger, by endpoint (token, userinfo)",
            ["endpoint"],
            registry=self.registry,
        )
        self.outbox = Gauge(
            "broker_outbox_backlog",
            "Messages and logout notices not yet delivered",
            ["kind"],
            registry=self.registry,
        )
        self.outbox_failed = Gauge(
            "broker_outbox_failed",
            "Messages Notify refused for good, or that ran out of retries (never delivered)",
            ["kind"],
            registry=self.registry,
        )
        self.backchannel = Counter(
            "broker_backchannel_notices_total",
            "Back-channel notices to relying services (logout tokens, security events) that ended, by kind"
            " and outcome: delivered, refused (the service answered 4xx: not retried) or"
            " failed_after_retries",
            ["kind", "outcome"],
            registry=self.registry,
        )
