"""The outbound address rule: which addresses the broker may call for a relying service (no SSRF)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.config import load_settings
from broker.outbound.addresses import embedded_ipv4, host_refusal, literal_address, refusal, uri_refusal

NEVER = [
    "0.0.0.0",
    "0.1.2.3",
    "169.254.169.254",  # cloud metadata
    "169.254.0.1",
    "fe80::1",
    "224.0.0.1",
    "ff02::1",
    "255.255.255.255",
    "240.0.0.1",
    "::",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
]
PRIVATE = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "100.64.0.1",  # shared address space (carrier NAT)
    "192.0.2.1",  # documentation
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",  # site-local (deprecated, RFC 3879)
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::127.0.0.1",
    "64:ff9b::a00:1",
    "2002:a00:1::1",
    "2001:db8::1",
]
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700::1111",
    "2a00:1450:4009:81b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize("address", NEVER)
def test_unspecified_link_local_multicast_and_reserved_addresses_are_never_called(address):
    assert refusal(ip_address(address), allow_private=False)
    assert refusal(ip_address(address), allow_private=True)


@pytest.mark.parametrize("address", PRIVATE)
def test_loopback_and_private_addresses_are_called_only_where_allowed(address):
    assert refusal(ip_address(address), allow_private=False)
    assert refusal(ip_address(address), allow_private=True) is None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_called(address):
    assert refusal(ip_address(address), allow_private=False) is None
    assert refusal(ip_address(address), allow_private=True) is None


def test_the_reason_names_the_kind_of_address():
    assert refusal(IPv4Address("127.0.0.1"), allow_private=False) == "a loopback address"
    assert refusal(IPv4Address("169.254.169.254"), allow_private=True) == "a link-local address"
    assert refusal(IPv4Address("10.1.2.3"), allow_private=False) == "a private address"


@given(st.ip_addresses(v=4), st.booleans())
def test_an_ipv4_mapped_address_is_judged_as_the_ipv4_address(address, allow_private):
    mapped = IPv6Address(f"::ffff:{address}")
    assert refusal(mapped, allow_private=allow_private) == refusal(address, allow_private=allow_private)
    assert embedded_ipv4(mapped) == address


@given(st.ip_addresses())
def test_allowing_private_addresses_never_refuses_more(address):
    if refusal(address, allow_private=True):
        assert refusal(address, allow_private=False)


@given(st.ip_addresses())
def test_in_production_only_global_addresses_are_called(address):
    if refusal(address, allow_private=False) is None:
        reached = embedded_ipv4(address) if isinstance(address, IPv6Address) else None
        assert address.is_global and (reached is None or reached.is_global)
        assert not (isinstance(address, IPv6Address) and address.is_site_local)


@pytest.mark.parametrize(
    "network",
    [
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "0.0.0.0/8",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "::ffff:7f00:0/104",  # mapped 127.0.0.0/8
        "::ffff:a9fe:0/112",  # mapped 169.254.0.0/16
    ],
)
@given(data=st.data())
def test_every_address_of_an_internal_network_is_refused_in_production(network, data):
    address = data.draw(st.ip_addresses(network=network))
    assert refusal(address, allow_private=False)


@given(st.ip_addresses(network="127.0.0.0/8") | st.just(IPv6Address("::1")))
def test_development_and_test_call_loopback(address):
    assert refusal(address, allow_private=True) is None


@given(st.ip_addresses(network="169.254.0.0/16") | st.ip_addresses(network="fe80::/10"), st.booleans())
def test_link_local_is_refused_everywhere(address, allow_private):
    assert refusal(address, allow_private=allow_private) == "a link-local address"


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("127.1", "127.0.0.1"),  # short forms a resolver accepts
        ("2130706433", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("rp.example", None),
        ("localhost", None),
    ],
)
def test_a_literal_address_is_read_as_a_resolver_reads_it(host, address):
    assert literal_address(host) == (ip_address(address) if address else None)


@pytest.mark.parametrize(
    "uri",
    [
        "https://169.254.169.254/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "https://10.0.0.1/logout",
        "https://[fd00::1]/logout",
        "https://[::ffff:a9fe:a9fe]/",
        "https://2852039166/",  # 169.254.169.254 as a number
        "http://localhost:8001/backchannel-logout",
        "https://rp.localhost/logout",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://printer.local/",
        "https://intranet/logout",
    ],
)
def test_registration_in_production_refuses_internal_hosts(uri):
    assert uri_refusal(uri, allow_private=False)


@pytest.mark.parametrize(
    "uri", ["https://rp.example/logout", "https://8.8.8.8/events", "not a uri", "https://[::1"]
)
def test_registration_in_production_leaves_public_hosts_to_the_send_time_check(uri):
    assert uri_refusal(uri, allow_private=False) is None


def test_registration_in_development_allows_loopback_but_never_metadata():
    assert uri_refusal("http://127.0.0.1:8001/backchannel-logout", allow_private=True) is None
    assert host_refusal("localhost", allow_private=True) is None
    assert uri_refusal("http://169.254.169.254/", allow_private=True) == "a link-local address"


@pytest.mark.parametrize(
    ("env", "setting", "allowed"),
    [
        ("production", None, False),
        ("development", None, True),
        ("test", None, True),
        ("production", True, True),  # an operator whose services live on a private network
        ("development", False, False),
    ],
)
def test_private_addresses_are_allowed_by_default_only_outside_production(env, setting, allowed):
    settings = load_settings(env=env, outbound_allow_private=setting)
    assert settings.outbound_allows_private is allowed
