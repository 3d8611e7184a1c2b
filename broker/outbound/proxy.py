"""An egress proxy for calls to relying services' URIs (``HTTPS_PROXY``, ``NO_PROXY``): pure rules.

A proxy that is handed a name resolves it itself, after the broker's check, so a name could answer a
public address to the broker and an internal one to the proxy (DNS rebinding through the proxy, which
usually sits inside the network the check protects). So the broker resolves and checks the name as it
does for a direct call, and asks the proxy for a tunnel to the checked address (``CONNECT
203.0.113.7:443``), never to the name; TLS inside the tunnel still verifies the certificate against the
registered name. Only ``https://`` URIs use the proxy (``HTTPS_PROXY``): plain ``http://`` is allowed
for loopback alone, in development. A proxy that permits destinations by name must therefore also
permit them by address.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import ip_network
from typing import Literal
from urllib.parse import unquote, urlsplit

from broker.config import SettingsError
from broker.outbound.addresses import IPAddress, literal_address

MAX_HEAD = 8192  # a proxy's answer to CONNECT is a status line and a few headers


@dataclass(frozen=True)
class OutboundProxy:
    """Where to tunnel, which hosts go direct instead, and the proxy's credentials (never shown)."""

    scheme: Literal["http", "https"]
    host: str
    port: int
    no_proxy: tuple[str, ...] = ()
    authorization: str | None = field(default=None, repr=False)  # the Proxy-Authorization value

    def bypassed_for(self, host: str) -> bool:
        return no_proxy_matches(self.no_proxy, host)


def _first(environ: Mapping[str, str], *names: str) -> str:
    """The first of ``names`` set to something (lower case first, as curl and Python's urllib read them)."""
    return next((environ[n].strip() for n in names if environ.get(n, "").strip()), "")


def proxy_from_environment(environ: Mapping[str, str]) -> OutboundProxy | None:
    """The proxy ``HTTPS_PROXY`` names, with ``NO_PROXY``'s exceptions; None when none is set."""
    url = _first(environ, "https_proxy", "HTTPS_PROXY")
    if not url:
        return None
    return parse_proxy(url, _first(environ, "no_proxy", "NO_PROXY"))


def parse_proxy(url: str, no_proxy: str = "") -> OutboundProxy:
    """``http://[user:password@]host:port`` (or ``https://``), refusing anything else at start-up rather
    than calling relying services some other way than the operator said."""
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        port = parts.port
    except ValueError:
        raise SettingsError("invalid setting HTTPS_PROXY: not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError("invalid setting HTTPS_PROXY: must be http://host:port or https://host:port")
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = "Basic " + base64.b64encode(pair).decode("ascii")
    entries = tuple(e.strip().lower() for e in no_proxy.replace(" ", ",").split(",") if e.strip())
    return OutboundProxy(
        scheme="https" if parts.scheme == "https" else "http",
        host=parts.hostname,
        port=port or (443 if parts.scheme == "https" else 80),
        no_proxy=entries,
        authorization=authorization,
    )


def _entry_host(entry: str) -> str:
    """A NO_PROXY entry without its wildcard, leading dot or port."""
    entry = entry.removeprefix("*.").lstrip(".")
    if entry.startswith("["):  # [::1] or [::1]:8443
        return entry[1:].split("]", 1)[0]
    if entry.count(":") == 1:  # name:port (a bare IPv6 address has several colons)
        return entry.split(":", 1)[0]
    return entry


def no_proxy_matches(entries: tuple[str, ...], host: str) -> bool:
    """Whether ``host`` goes direct: ``*``; a name, covering its subdomains; an address; a CIDR range.
    Matched on the host as registered, never on what it resolves to (as curl does)."""
    name = host.strip("[]").lower().rstrip(".")
    address = literal_address(name)
    for entry in entries:
        if entry == "*":
            return True
        wanted = _entry_host(entry).rstrip(".")
        if not wanted:
            continue
        if address is not None:
            try:
                if address in ip_network(wanted, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if name == wanted or name.endswith("." + wanted):
            return True
    return False


def connect_request(address: IPAddress, port: int, proxy: OutboundProxy) -> bytes:
    """The CONNECT request for a tunnel to a checked address (RFC 9110 §9.3.6), never to a name."""
    target = f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if proxy.authorization:
        lines.append(f"Proxy-Authorization: {proxy.authorization}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def connect_status(head: bytes) -> int | None:
    """The status of a proxy's answer to CONNECT, or None when it is not an HTTP answer."""
    first = head.split(b"\r\n", 1)[0].split()
    if len(first) < 2 or not first[0].startswith(b"HTTP/1.") or not first[1].isdigit():
        return None
    return int(first[1])
