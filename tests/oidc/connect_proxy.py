"""A small forward proxy on 127.0.0.1 that tunnels CONNECT requests (RFC 9110 §9.3.6), standing in for an
operator's egress proxy: it records what it was asked for and, unless told to refuse, opens the tunnel."""

from __future__ import annotations

import select
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Proxy:
    port: int
    asked: list[str] = field(default_factory=list)  # request lines, such as "CONNECT 127.0.0.1:443 HTTP/1.1"
    headers: list[dict[str, str]] = field(default_factory=list)
    answer: int = 200  # the status given to a CONNECT; 0 closes the connection without an answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _read_head(conn: socket.socket) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk:
            break
        head += chunk
    return head


def _pipe(a: socket.socket, b: socket.socket) -> None:
    sockets = [a, b]
    while True:
        ready, _, _ = select.select(sockets, [], [], 10)
        if not ready:
            return
        for sock in ready:
            data = sock.recv(65536)
            if not data:
                return
            (b if sock is a else a).sendall(data)


def _handler(proxy: Proxy) -> type[socketserver.BaseRequestHandler]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            conn: socket.socket = self.request
            line, *rest = _read_head(conn).split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            proxy.asked.append(line)
            proxy.headers.append(dict(h.split(": ", 1) for h in rest if ": " in h))
            method, target, _ = line.split(" ", 2)
            if proxy.answer == 0:
                return
            if method != "CONNECT" or proxy.answer != 200:
                conn.sendall(f"HTTP/1.1 {proxy.answer if method == 'CONNECT' else 405} No\r\n\r\n".encode())
                return
            host, port = target.rsplit(":", 1)
            try:
                upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
            except OSError:
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
                return
            with upstream:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                _pipe(conn, upstream)

    return Handler


@contextmanager
def proxying(tls: ssl.SSLContext | None = None) -> Iterator[Proxy]:
    """A proxy on 127.0.0.1; with ``tls`` (a server context), clients speak TLS to the proxy itself."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _handler(Proxy(port=0)))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    proxy = Proxy(port=server.server_address[1])
    server.RequestHandlerClass = _handler(proxy)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
