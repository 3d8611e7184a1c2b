"""The HTTP client for requests to URIs relying services registered (back-channel logout, security
events, ``jwks_uri``), so that none of them reaches an address :mod:`broker.outbound.addresses` refuses.

The check runs where the connection is made: the host is resolved once, every address it resolves to
is checked, and the socket is opened to a checked address, so a name cannot answer one address to a
check and another to the connection (DNS rebinding). TLS still verifies the certificate against the
registered host name. Redirects are never followed; each request gets a fresh connection with a total
time budget, and a body is read only up to a limit. Through an egress proxy (:mod:`outbound_proxy`)
the check is the same and the tunnel is asked for the checked address, never the name; httpx's own
reading of proxy variables is off (it would hand the proxy the name, to resolve after the check).
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx
import structlog

from broker.outbound.addresses import IPAddress, addresses_refusal, literal_address
from broker.outbound.proxy import MAX_HEAD, OutboundProxy, connect_request, connect_status

log = structlog.get_logger(__name__)

Resolver = Callable[[str, int], list[IPAddress]]


class OutboundRefused(httpx.TransportError):
    """The broker will not connect to where the URI leads (the message says why, without the path)."""


class ResponseRefused(httpx.TransportError):
    """The answer is too big, or compressed when identity was asked for."""


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order."""
    found: list[IPAddress] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = literal_address(str(sockaddr[0]).split("%", 1)[0])
        if address is not None and address not in found:
            found.append(address)
    return found


class _Budgeted(httpcore.NetworkStream):
    """A connection that gives up once its total time is spent, however slowly the far end trickles."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise error("the request took longer than allowed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        stream = self._inner.start_tls(
            ssl_context, server_hostname, self._left(timeout, httpcore.ConnectTimeout)
        )
        return _Budgeted(stream, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class CheckedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to addresses the outbound rule allows, checked after resolution:
    directly, or through a tunnel that ``proxy`` opens to the checked address."""

    def __init__(
        self,
        *,
        allow_private: bool,
        total_timeout: float,
        resolve: Resolver = system_resolver,
        proxy: OutboundProxy | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._total_timeout = total_timeout
        self._resolve = resolve
        self._proxy = proxy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        deadline = time.monotonic() + self._total_timeout
        try:
            addresses = self._resolve(host, port)
        except OSError:
            raise httpcore.ConnectError(f"cannot resolve {host}") from None
        reason = addresses_refusal(addresses, allow_private=self._allow_private)
        if reason:
            log.warning("outbound request refused", host=host, port=port, reason=reason)
            raise OutboundRefused(f"refused: {host} leads to {reason}")
        proxy = None if self._proxy is None or self._proxy.bypassed_for(host) else self._proxy
        failure: Exception | None = None
        for address in addresses:
            try:
                if proxy is not None:
                    return _tunnel(self._inner, proxy, address, port, timeout, deadline)
                stream = self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout, httpcore.ProxyError) as exc:
                failure = exc
                continue
            return _Budgeted(stream, deadline)
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise OutboundRefused("refused: a unix socket")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _tunnel(
    backend: httpcore.NetworkBackend,
    proxy: OutboundProxy,
    address: IPAddress,
    port: int,
    timeout: float | None,
    deadline: float,
) -> httpcore.NetworkStream:
    """A connection to ``address`` through the proxy (the operator's, so not itself checked), within
    the request's time budget. The caller runs TLS to the registered name on it."""
    stream: httpcore.NetworkStream = _Budgeted(backend.connect_tcp(proxy.host, proxy.port, timeout), deadline)
    try:
        if proxy.scheme == "https":
            stream = stream.start_tls(httpx.create_ssl_context(), proxy.host, timeout)
        stream.write(connect_request(address, port, proxy), timeout)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = stream.read(MAX_HEAD, timeout)
            if not chunk or len(head) + len(chunk) > MAX_HEAD:
                raise httpcore.ProxyError("the proxy did not answer CONNECT")
            head += chunk
        status = connect_status(head)
        if not head.endswith(b"\r\n\r\n") or status is None or not 200 <= status < 300:
            # Its reason phrase and headers are not repeated: only the status says why.
            raise httpcore.ProxyError(f"the proxy refused the tunnel ({status or 'no status'})")
    except BaseException:
        stream.close()
        raise
    return stream


class _CheckedTransport(httpx.HTTPTransport):
    def __init__(self, backend: CheckedBackend, ssl_context: ssl.SSLContext | None) -> None:
        super().__init__(trust_env=False)
        # httpx builds its pool without a way to pass a network backend; ours replaces it.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_keepalive_connections=0,  # a fresh, checked, time-budgeted connection for every request
            network_backend=backend,
        )


def outbound_client(
    *,
    allow_private: bool,
    timeout: float,
    total_timeout: float,
    resolve: Resolver = system_resolver,
    proxy: OutboundProxy | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.Client:
    """A client for URIs relying services registered. ``allow_private`` is the operator's
    ``BROKER_OUTBOUND_ALLOW_PRIVATE`` (see :attr:`broker.config.Settings.outbound_allows_private`);
    ``proxy``, from ``HTTPS_PROXY`` (:func:`broker.outbound.proxy.proxy_from_environment`), carries
    ``https://`` calls; ``ssl_context`` replaces the system's trusted certificates (tests)."""

    def transport(via: OutboundProxy | None) -> _CheckedTransport:
        backend = CheckedBackend(
            allow_private=allow_private, total_timeout=total_timeout, resolve=resolve, proxy=via
        )
        return _CheckedTransport(backend, ssl_context)

    return httpx.Client(
        transport=transport(None),
        mounts={"https://": transport(proxy)} if proxy else None,
        trust_env=False,
        follow_redirects=False,
        timeout=timeout,
        headers={"Accept-Encoding": "identity"},  # a size limit on the wire is a size limit in memory
    )


def read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    """The body of a streamed response, refusing more than ``max_bytes`` or an encoded body."""
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        raise ResponseRefused("the response is compressed; it was asked for identity")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ResponseRefused(f"the response is over {max_bytes} bytes")
    body = bytearray()
    for chunk in response.iter_raw():
        body += chunk
        if len(body) > max_bytes:
            raise ResponseRefused(f"the response is over {max_bytes} bytes")
    return bytes(body)
