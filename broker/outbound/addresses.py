"""Which addresses the broker may call when a relying service asks it to (back-channel logout, security
events, its ``jwks_uri``): a pure rule, so that a service manager cannot make the broker probe the
internal network (blind SSRF) by registering a URI that points into it.

Some addresses are never called: unspecified, link-local (169.254.169.254 is the cloud metadata
service), multicast, broadcast and reserved. Loopback, private (RFC 1918, unique-local IPv6) and other
non-global addresses are called only where the operator allows them (development and test do by
default: their relying services run on 127.0.0.1). IPv6 forms that carry an IPv4 address (mapped,
compatible, NAT64, 6to4) are judged by the IPv4 address they reach.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from urllib.parse import urlsplit

IPAddress = IPv4Address | IPv6Address

# RFC 1122 §3.2.1.3: "this host on this network"; Linux connects 0.0.0.0 to this host.
THIS_NETWORK = IPv4Network("0.0.0.0/8")
NAT64 = (IPv6Network("64:ff9b::/96"), IPv6Network("64:ff9b:1::/48"))  # RFC 6052, RFC 8215
# Names that only ever mean this host or a private network (RFC 6761 §6.3, RFC 6762, RFC 8375, ICANN 2024).
PRIVATE_NAME_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address a packet to this IPv6 address is really delivered to, if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in network for network in NAT64):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5.1)
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why the broker must not call ``address``, or None when it may."""
    if isinstance(address, IPv6Address) and (inner := embedded_ipv4(address)) is not None:
        why = refusal(inner, allow_private=allow_private)
        if why or address.sixtofour is None:  # a 6to4 address is also judged as itself below
            return why
    if address.is_unspecified or address in THIS_NETWORK:
        return "an unspecified address"
    if address.is_loopback:
        return None if allow_private else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    site_local = isinstance(address, IPv6Address) and address.is_site_local  # fec0::/10, counted global
    if address.is_global and not site_local:
        return None
    return None if allow_private else "a private address"


def addresses_refusal(addresses: Sequence[IPAddress], *, allow_private: bool) -> str | None:
    """Why a name resolving to ``addresses`` must not be called, or None when it may. Every address is
    judged, not only the first: a name answering a public and a private address would otherwise reach
    the private one whenever the public one fails."""
    if not addresses:
        return "no address"
    reasons = (refusal(address, allow_private=allow_private) for address in addresses)
    return next((why for why in reasons if why), None)


def literal_address(host: str) -> IPAddress | None:
    """The address a URI's host names without a DNS look-up: an IP literal, including the short and
    numeric IPv4 forms (``127.1``, ``2130706433``, ``0x7f.0.0.1``) that resolvers also accept."""
    host = host.strip("[]")
    try:
        return ip_address(host)
    except ValueError:
        pass
    try:
        return IPv4Address(socket.inet_aton(host))  # parses; no look-up
    except OSError:
        return None


def host_refusal(host: str, *, allow_private: bool) -> str | None:
    """Why a registered host is refused before any look-up: a literal address the rule refuses, or a
    name that can only mean this machine or a private network. Other names are checked when called."""
    address = literal_address(host)
    if address is not None:
        return refusal(address, allow_private=allow_private)
    name = host.lower().rstrip(".")
    if allow_private:
        return None
    if name == "localhost" or name.endswith(PRIVATE_NAME_SUFFIXES) or "." not in name:
        return "a local or private name"
    return None


def uri_refusal(uri: str, *, allow_private: bool) -> str | None:
    """:func:`host_refusal` for a URI's host (None when the URI has no host: other checks refuse it)."""
    try:
        host = urlsplit(uri).hostname
    except ValueError:  # an unbalanced [ in the authority
        return None
    return host_refusal(host, allow_private=allow_private) if host else None
