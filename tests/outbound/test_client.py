"""The outbound HTTP client against a live server on 127.0.0.1: the address is checked after DNS on the
connection actually made, redirects are not followed, and size and total time are bounded."""

from __future__ import annotations

import time
from ipaddress import IPv4Address

import httpx
import pytest

from broker.outbound.client import (
    CheckedBackend,
    OutboundRefused,
    ResponseRefused,
    outbound_client,
    read_limited,
)
from tests.oidc.http_listener import listening


@pytest.fixture
def listener():
    with listening() as running:
        yield running


def resolving(table):
    """A resolver that answers from ``table`` (name → addresses), as a DNS server the attacker runs."""
    return lambda host, port: [IPv4Address(a) for a in table[host]]


def test_in_production_a_name_resolving_to_loopback_is_refused_before_any_connection(listener):
    with outbound_client(allow_private=False, timeout=5, total_timeout=5) as http:
        with pytest.raises(OutboundRefused, match="loopback"):
            http.post(listener.url("/backchannel-logout", host="localhost"), data={"logout_token": "t"})
        with pytest.raises(OutboundRefused):
            http.post(listener.url("/backchannel-logout"))  # the literal address too
    assert listener.seen == []


def test_in_production_a_public_name_the_attacker_points_at_loopback_is_refused(listener):
    resolve = resolving({"rp.example": ["127.0.0.1"]})
    with (
        outbound_client(allow_private=False, timeout=5, total_timeout=5, resolve=resolve) as http,
        pytest.raises(OutboundRefused),
    ):
        http.get(listener.url("/jwks", host="rp.example"))
    assert listener.seen == []


def test_a_name_with_a_public_and_a_private_address_is_refused(listener):
    resolve = resolving({"rp.example": ["93.184.215.14", "127.0.0.1"]})
    with (
        outbound_client(allow_private=False, timeout=5, total_timeout=5, resolve=resolve) as http,
        pytest.raises(OutboundRefused, match="loopback"),
    ):
        http.get(listener.url("/ok", host="rp.example"))
    assert listener.seen == []


def test_the_connection_goes_to_the_checked_address_with_the_registered_host(listener):
    resolve = resolving({"rp.example": ["127.0.0.1"]})
    with outbound_client(allow_private=True, timeout=5, total_timeout=5, resolve=resolve) as http:
        assert http.post(listener.url("/ok", host="rp.example"), data={"a": "b"}).status_code == 200
    assert [(s.path, s.host, s.body) for s in listener.seen] == [
        ("/ok", f"rp.example:{listener.port}", b"a=b")
    ]


def test_in_development_loopback_is_called(listener):
    with outbound_client(allow_private=True, timeout=5, total_timeout=5) as http:
        assert http.get(listener.url("/ok", host="localhost")).status_code == 200
        assert http.get(listener.url("/ok")).status_code == 200
    assert len(listener.seen) == 2


def test_redirects_are_not_followed(listener):
    with outbound_client(allow_private=True, timeout=5, total_timeout=5) as http:
        assert http.get(listener.url("/redirect")).status_code == 302
    assert [s.path for s in listener.seen] == ["/redirect"]


def test_environment_proxies_are_not_used(listener, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    with outbound_client(allow_private=True, timeout=5, total_timeout=5) as http:
        assert http.get(listener.url("/ok")).status_code == 200


def test_a_body_over_the_limit_is_refused_as_it_arrives(listener):
    with (
        outbound_client(allow_private=True, timeout=5, total_timeout=5) as http,
        http.stream("GET", listener.url("/big")) as response,
        pytest.raises(ResponseRefused),
    ):
        read_limited(response, 100_000)


def test_a_slow_trickle_is_cut_off_at_the_total_time_budget(listener):
    with outbound_client(allow_private=True, timeout=5, total_timeout=1, resolve=_loopback) as http:
        started = time.monotonic()
        with pytest.raises(httpx.TimeoutException):
            http.get(listener.url("/slow"))
    assert time.monotonic() - started < 3  # each read was quick; the whole was not


def _loopback(host, port):
    return [IPv4Address("127.0.0.1")]


def test_a_name_that_does_not_resolve_or_resolves_to_nothing_is_not_called():
    def failing(host, port):
        raise OSError("no such name")

    http = outbound_client(allow_private=False, timeout=5, total_timeout=5, resolve=failing)
    with pytest.raises(httpx.ConnectError):
        http.get("https://rp.example/jwks")
    http = outbound_client(
        allow_private=False, timeout=5, total_timeout=5, resolve=resolving({"x.example": []})
    )
    with pytest.raises(OutboundRefused, match="no address"):
        http.get("https://x.example/jwks")


def test_each_checked_address_is_tried_in_turn(listener):
    resolve = resolving({"rp.example": ["127.0.0.2", "127.0.0.1"]})  # nothing listens on the first
    http = outbound_client(allow_private=True, timeout=5, total_timeout=5, resolve=resolve)
    assert http.get(listener.url("/ok", host="rp.example")).status_code == 200
    resolve = resolving({"rp.example": ["127.0.0.2"]})
    http = outbound_client(allow_private=True, timeout=5, total_timeout=5, resolve=resolve)
    with pytest.raises(httpx.ConnectError):
        http.get(listener.url("/ok", host="rp.example"))


def test_tls_runs_on_the_checked_connection(listener):
    http = outbound_client(allow_private=True, timeout=5, total_timeout=5, resolve=_loopback)
    with pytest.raises(httpx.ConnectError):  # the listener speaks plain HTTP: the handshake fails
        http.get(f"https://rp.example:{listener.port}/ok")


def test_unix_sockets_are_never_used():
    backend = CheckedBackend(allow_private=True, total_timeout=5)
    with pytest.raises(OutboundRefused):
        backend.connect_unix_socket("/var/run/docker.sock")
