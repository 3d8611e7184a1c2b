"""Outbound calls through an egress proxy (HTTPS_PROXY, NO_PROXY): the destination is resolved and checked
by the broker, the proxy is asked for a tunnel to the checked address (never the name, which it would
resolve again after the check), and TLS in the tunnel is verified against the registered name. Live
over HTTP(S) against a CONNECT proxy and a receiver on 127.0.0.1."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

import httpx
import pytest
from sqlalchemy import select

from broker.app import create_app
from broker.config import SettingsError
from broker.deps import utc_now
from broker.oidc.backchannel import BackchannelSender
from broker.oidc.client_keys import ClientKeyResolver
from broker.oidc.clients import NewClient, register_client
from broker.outbound.client import OutboundRefused, outbound_client
from broker.outbound.proxy import (
    OutboundProxy,
    connect_request,
    connect_status,
    no_proxy_matches,
    parse_proxy,
    proxy_from_environment,
)
from broker.store.db import transaction
from broker.store.models import BackchannelLogout, Client
from tests.oidc.connect_proxy import proxying
from tests.oidc.http_listener import listening
from tests.oidc.tls import Authority

PUBLIC = "93.184.215.14"


def resolving(table):
    """A resolver answering from ``table`` (name → addresses), as a DNS server the attacker runs."""
    return lambda host, port: [ip_address(a) for a in table.get(host, [host])]


# The rules, without a network.


def test_no_proxy_variable_means_direct_calls():
    assert proxy_from_environment({}) is None
    assert proxy_from_environment({"HTTPS_PROXY": " ", "HTTP_PROXY": "http://p:3128"}) is None


def test_https_proxy_and_no_proxy_are_read_lower_case_first():
    proxy = proxy_from_environment(
        {"https_proxy": "http://egress:3128", "HTTPS_PROXY": "http://other:1", "NO_PROXY": "a.example, .b"}
    )
    assert proxy == OutboundProxy(scheme="http", host="egress", port=3128, no_proxy=("a.example", ".b"))


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port"),
    [
        ("http://egress.internal:3128", "http", "egress.internal", 3128),
        ("egress:8080", "http", "egress", 8080),
        ("http://10.0.0.5", "http", "10.0.0.5", 80),
        ("https://egress.example", "https", "egress.example", 443),
        ("http://[fd00::5]:3128/", "http", "fd00::5", 3128),
    ],
)
def test_a_proxy_is_an_http_or_https_url(url, scheme, host, port):
    proxy = parse_proxy(url)
    assert (proxy.scheme, proxy.host, proxy.port, proxy.authorization) == (scheme, host, port, None)


@pytest.mark.parametrize("url", ["socks5://egress:1080", "http://:3128", "http://egress:port", "ftp://x"])
def test_a_proxy_the_broker_cannot_use_stops_start_up_naming_the_variable(url):
    with pytest.raises(SettingsError, match="HTTPS_PROXY"):
        parse_proxy(url)


def test_proxy_credentials_become_a_header_and_are_never_shown():
    proxy = parse_proxy("http://broker%40svc:s%3Acret@egress:3128")
    assert proxy.authorization == "Basic YnJva2VyQHN2YzpzOmNyZXQ="  # broker@svc:s:cret
    assert "cret" not in repr(proxy) and "YnJv" not in repr(proxy)


@pytest.mark.parametrize(
    ("entries", "host", "direct"),
    [
        ((), "rp.example", False),
        (("*",), "rp.example", True),
        (("rp.example",), "rp.example", True),
        (("rp.example",), "RP.Example.", True),
        (("example",), "rp.example", True),
        ((".example",), "rp.example", True),
        (("*.example",), "rp.example", True),
        (("p.example",), "rp.example", False),  # a suffix is a whole label
        (("rp.example:443",), "rp.example", True),
        (("10.0.0.0/8",), "10.1.2.3", True),
        (("10.0.0.0/8",), "rp.example", False),  # names are not resolved to be matched
        (("127.0.0.1",), "127.0.0.1", True),
        (("10.0.0.0/8",), "11.1.2.3", False),
        (("::1",), "[::1]", True),
        (("[::1]:8443",), "::1", True),
        (("fd00::/8",), "fd12::1", True),
        (("",), "rp.example", False),
        (("not/a/network",), "10.0.0.1", False),
    ],
)
def test_no_proxy_sends_matching_hosts_direct(entries, host, direct):
    assert no_proxy_matches(entries, host) is direct


def test_the_tunnel_is_asked_for_the_address_never_the_name():
    proxy = parse_proxy("http://u:p@egress:3128")
    assert connect_request(IPv4Address(PUBLIC), 443, proxy) == (
        b"CONNECT 93.184.215.14:443 HTTP/1.1\r\nHost: 93.184.215.14:443\r\n"
        b"Proxy-Authorization: Basic dTpw\r\n\r\n"
    )
    assert connect_request(IPv6Address("2606:4700::1111"), 8443, parse_proxy("egress:1")).startswith(
        b"CONNECT [2606:4700::1111]:8443 HTTP/1.1\r\n"
    )


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"HTTP/1.1 200 Connection established\r\n\r\n", 200),
        (b"HTTP/1.0 403 Forbidden\r\nVia: squid\r\n\r\n", 403),
        (b"SSH-2.0-OpenSSH\r\n\r\n", None),
        (b"HTTP/1.1 abc\r\n\r\n", None),
        (b"", None),
    ],
)
def test_the_proxy_answer_is_read_for_its_status_alone(head, status):
    assert connect_status(head) == status


# Live: a CONNECT proxy and receivers on 127.0.0.1.


@pytest.fixture
def authority(tmp_path):
    return Authority(tmp_path)


def _client(proxy, *, allow_private, table, authority=None):
    return outbound_client(
        allow_private=allow_private,
        timeout=5,
        total_timeout=5,
        resolve=resolving(table),
        proxy=proxy,
        ssl_context=authority.client_context() if authority else None,
    )


def test_through_the_proxy_tls_reaches_the_registered_name_at_the_checked_address(authority):
    with listening(tls=authority.server_context("rp.example")) as listener, proxying() as proxy:
        via = parse_proxy(proxy.url)
        with _client(
            via, allow_private=True, table={"rp.example": ["127.0.0.1"]}, authority=authority
        ) as http:
            assert http.post(listener.url("/ok", host="rp.example"), data={"a": "b"}).status_code == 200
        assert proxy.asked == [f"CONNECT 127.0.0.1:{listener.port} HTTP/1.1"]
        assert [(s.path, s.host, s.body) for s in listener.seen] == [
            ("/ok", f"rp.example:{listener.port}", b"a=b")
        ]


def test_through_the_proxy_a_certificate_for_another_name_is_refused(authority):
    with listening(tls=authority.server_context("other.example")) as listener, proxying() as proxy:
        via = parse_proxy(proxy.url)
        with (
            _client(
                via, allow_private=True, table={"rp.example": ["127.0.0.1"]}, authority=authority
            ) as http,
            pytest.raises(httpx.ConnectError, match="certificate"),
        ):
            http.get(listener.url("/ok", host="rp.example"))
        assert len(proxy.asked) == 1 and listener.seen == []


def test_in_production_a_name_leading_inside_is_refused_before_the_proxy_is_asked():
    with proxying() as proxy:
        via = parse_proxy(proxy.url)
        for table in ({"rp.example": ["127.0.0.1"]}, {"rp.example": [PUBLIC, "10.0.0.7"]}):
            with (
                _client(via, allow_private=False, table=table) as http,
                pytest.raises(OutboundRefused),
            ):
                http.post("https://rp.example/backchannel-logout", data={"logout_token": "t"})
        with _client(via, allow_private=False, table={}) as http, pytest.raises(OutboundRefused):
            http.get("https://169.254.169.254/latest/meta-data/")
        assert proxy.asked == []


def test_in_production_the_proxy_is_asked_for_the_public_address_the_name_was_checked_at():
    with proxying() as proxy:
        proxy.answer = 403  # an egress rule refusing it: nothing leaves this machine
        via = parse_proxy(proxy.url)
        with (
            _client(via, allow_private=False, table={"rp.example": [PUBLIC]}) as http,
            pytest.raises(httpx.ProxyError, match="403"),
        ):
            http.get("https://rp.example/jwks")
        assert proxy.asked == [f"CONNECT {PUBLIC}:443 HTTP/1.1"]


def test_proxy_credentials_go_to_the_proxy_alone(authority):
    with listening(tls=authority.server_context("rp.example")) as listener, proxying() as proxy:
        via = parse_proxy(f"http://broker:s3cret@127.0.0.1:{proxy.port}")
        with _client(
            via, allow_private=True, table={"rp.example": ["127.0.0.1"]}, authority=authority
        ) as http:
            assert http.get(listener.url("/ok", host="rp.example")).status_code == 200
        assert proxy.headers[0]["Proxy-Authorization"] == "Basic YnJva2VyOnMzY3JldA=="


def test_no_proxy_hosts_go_direct_and_are_still_checked(authority):
    with listening(tls=authority.server_context("rp.example")) as listener, proxying() as proxy:
        via = parse_proxy(proxy.url, no_proxy="rp.example")
        table = {"rp.example": ["127.0.0.1"]}
        with _client(via, allow_private=True, table=table, authority=authority) as http:
            assert http.get(listener.url("/ok", host="rp.example")).status_code == 200
        with _client(via, allow_private=False, table=table) as http, pytest.raises(OutboundRefused):
            http.get(listener.url("/ok", host="rp.example"))
        assert proxy.asked == [] and len(listener.seen) == 1


def test_plain_http_never_goes_through_the_proxy():
    with listening() as listener, proxying() as proxy:
        via = parse_proxy(proxy.url)
        with _client(via, allow_private=True, table={"localhost": ["127.0.0.1"]}) as http:
            assert http.get(listener.url("/ok", host="localhost")).status_code == 200
        assert proxy.asked == [] and len(listener.seen) == 1


def test_a_proxy_answering_connect_with_an_error_page_is_a_failed_call():
    with listening() as not_a_proxy:  # a web server, not a proxy: 501 and a page
        via = parse_proxy(not_a_proxy.url("/"))
        with (
            _client(via, allow_private=False, table={"rp.example": [PUBLIC]}) as http,
            pytest.raises(httpx.ProxyError),
        ):
            http.get("https://rp.example/jwks")


def test_a_proxy_that_closes_without_answering_is_a_failed_call():
    with proxying() as proxy:
        proxy.answer = 0
        with (
            _client(parse_proxy(proxy.url), allow_private=False, table={"rp.example": [PUBLIC]}) as http,
            pytest.raises(httpx.ProxyError, match="did not answer"),
        ):
            http.get("https://rp.example/jwks")
        assert proxy.asked == [f"CONNECT {PUBLIC}:443 HTTP/1.1"]


def test_an_https_proxy_must_present_a_trusted_certificate(authority):
    with proxying(tls=authority.server_context("egress.example")) as proxy:
        via = parse_proxy(f"https://127.0.0.1:{proxy.port}")  # the test authority is not trusted for it
        with (
            _client(via, allow_private=False, table={"rp.example": [PUBLIC]}) as http,
            pytest.raises(httpx.ConnectError, match="certificate"),
        ):
            http.get("https://rp.example/jwks")
        assert proxy.asked == []


# Where the broker calls out: the back-channel sender and the jwks_uri fetch, wired from the environment.


def test_the_broker_reads_https_proxy_at_start_up_and_notices_go_through_it(settings, monkeypatch):
    with proxying() as proxy:
        proxy.answer = 403
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        app = create_app(settings)
        factory = app.state.services.session_factory
        with transaction(factory) as db:
            client, _ = register_client(
                db,
                NewClient(
                    name="S",
                    redirect_uris=["https://rp.example/cb"],
                    backchannel_logout_uri="https://127.0.0.1:4443/backchannel-logout",
                ),
                utc_now(),
                allow_private_outbound=True,
                operator_approves=True,
            )
            db.add(
                BackchannelLogout(
                    client_id=client.client_id,
                    session_id="s",
                    sub="u",
                    created_at=utc_now(),
                    next_attempt_at=utc_now(),
                )
            )
        sender: BackchannelSender = app.state.backchannel
        assert sender.deliver_due() == 1
        assert proxy.asked == ["CONNECT 127.0.0.1:4443 HTTP/1.1"]
        with factory() as db:
            assert db.scalars(select(BackchannelLogout.last_error)).one() == "ProxyError"
        resolver: ClientKeyResolver = app.state.services.client_keys
        with pytest.raises(httpx.ProxyError):
            resolver.key_set(Client(client_id="k", jwks=None, jwks_uri="https://127.0.0.1:4443/jwks"))
        assert proxy.asked[-1] == "CONNECT 127.0.0.1:4443 HTTP/1.1"
        app.state.services.engine.dispose()


def test_an_https_proxy_the_broker_cannot_use_stops_start_up(settings, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "socks5://egress:1080")
    with pytest.raises(SettingsError, match="HTTPS_PROXY"):
        create_app(settings)
