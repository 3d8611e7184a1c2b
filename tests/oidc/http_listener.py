"""A small HTTP server on 127.0.0.1 standing in for a relying service's receiver (or for an internal
service the broker must not reach): it records every request and answers by path."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    method: str
    path: str
    host: str
    body: bytes


@dataclass
class Listener:
    port: int
    seen: list[Seen] = field(default_factory=list)
    jwks: bytes = b'{"keys": []}'

    scheme: str = "http"

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


def _handler(listener: Listener) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            listener.seen.append(Seen(self.command, self.path, self.headers.get("host", ""), body))
            if self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", "/ok")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path.startswith("/big"):
                chunk = b"x" * 65536
                self.send_response(200)
                self.end_headers()  # no Content-Length: the size shows only as the body arrives
                try:
                    for _ in range(64):
                        self.wfile.write(chunk)
                except OSError:
                    pass
                self.close_connection = True
            elif self.path.startswith("/slow"):
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                try:
                    for _ in range(100):  # a header a byte at a time: each read is quick, the whole is not
                        self.wfile.write(b"X")
                        self.wfile.flush()
                        time.sleep(0.1)
                except OSError:
                    pass
                self.close_connection = True
            elif self.path.startswith("/status/"):  # answers the status it names: /status/400
                self.send_response(int(self.path.split("/")[2]))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path.startswith("/jwks"):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(listener.jwks)))
                self.end_headers()
                self.wfile.write(listener.jwks)
            else:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        do_GET = do_POST = _answer

    return Handler


@contextmanager
def listening(tls: ssl.SSLContext | None = None) -> Iterator[Listener]:
    """A listener on 127.0.0.1; with ``tls`` (a server context), it speaks HTTPS."""
    listener = Listener(port=0, scheme="https" if tls else "http")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(listener))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    listener.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        server.shutdown()
        server.server_close()
