"""Registered URIs the broker will not call, found at start-up and by ``broker clients check`` rather
than when the first notice to them fails: a host the outbound rule refuses as registered (a service
registered while private addresses were allowed), or a name that now resolves to an internal address.

A name that does not resolve is not reported: that is not an address the broker refuses, and a DNS
failure at start-up would otherwise flag every service at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from broker.outbound.addresses import addresses_refusal, host_refusal, literal_address
from broker.outbound.client import Resolver, system_resolver
from broker.store.models import Client

log = structlog.get_logger(__name__)

OUTBOUND_FIELDS = ("backchannel_logout_uri", "security_event_uri", "jwks_uri")


@dataclass(frozen=True)
class RegisteredUri:
    client_id: str
    field: str  # one of OUTBOUND_FIELDS
    uri: str


@dataclass(frozen=True)
class RefusedUri:
    """A registered URI the broker would refuse to call, and why (the kind of address, no URI path)."""

    client_id: str
    field: str
    host: str
    reason: str

    def describe(self) -> str:
        return f"{self.client_id} {self.field}: {self.host} leads to {self.reason}"


def registered_uris(db: Session) -> list[RegisteredUri]:
    """Every URI a relying service registered for the broker to call."""
    rows = db.execute(
        select(Client.client_id, Client.backchannel_logout_uri, Client.security_event_uri, Client.jwks_uri)
    )
    return [
        RegisteredUri(client_id, field, uri)
        for client_id, *uris in rows
        for field, uri in zip(OUTBOUND_FIELDS, uris, strict=True)
        if uri
    ]


def _host_and_port(uri: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(uri)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return (parts.hostname, port) if parts.hostname else None


def host_refused(host: str, port: int, *, allow_private: bool, resolve: Resolver) -> str | None:
    """Why a call to ``host`` would be refused now, or None (also when the name does not resolve)."""
    reason = host_refusal(host, allow_private=allow_private)
    if reason or literal_address(host) is not None:
        return reason
    try:
        addresses = resolve(host, port)
    except OSError:
        return None
    return addresses_refusal(addresses, allow_private=allow_private)


def refused_uris(
    uris: Iterable[RegisteredUri], *, allow_private: bool, resolve: Resolver = system_resolver
) -> list[RefusedUri]:
    """The registered URIs a call would be refused for; each host is looked up once."""
    seen: dict[tuple[str, int], str | None] = {}
    found = []
    for registered in uris:
        target = _host_and_port(registered.uri)
        if target is None:
            continue
        if target not in seen:
            seen[target] = host_refused(*target, allow_private=allow_private, resolve=resolve)
        reason = seen[target]
        if reason:
            found.append(RefusedUri(registered.client_id, registered.field, target[0], reason))
    return found


def warn_refused(found: Iterable[RefusedUri]) -> None:
    for refused in found:
        log.warning(
            "registered URI leads where the broker will not call",
            client_id=refused.client_id,
            field=refused.field,
            host=refused.host,
            reason=refused.reason,
        )


def check_at_startup(
    session_factory: sessionmaker[Session],
    *,
    allow_private: bool,
    resolve: Resolver = system_resolver,
) -> threading.Thread | None:
    """Read the registered URIs now, and look their names up on a thread of its own, so a slow resolver
    never holds up start-up; each refused one is a warning naming the client. The thread, if any."""
    try:
        with session_factory() as db:
            uris = registered_uris(db)
    except SQLAlchemyError:
        log.warning("registered URIs not checked: the client table could not be read")
        return None
    if not uris:
        return None
    thread = threading.Thread(
        target=lambda: warn_refused(refused_uris(uris, allow_private=allow_private, resolve=resolve)),
        name="outbound-check",
        daemon=True,
    )
    thread.start()
    return thread
