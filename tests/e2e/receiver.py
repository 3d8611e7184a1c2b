"""A test relying service's own endpoints: a back-channel logout receiver that records every logout
token it is sent, and its published keys (a ``jwks_uri``)."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse


class Receiver:
    def __init__(self, url: str) -> None:
        self.url = url
        self.tokens: list[str] = []
        self.events: list[str] = []  # security event tokens pushed to us (RFC 8935)
        self.fail_next = 0
        self.fail_events_next = 0  # security events answered 503 before one is accepted
        self.key_sets: dict[str, dict[str, Any]] = {}  # name → the JWKS served at /jwks/{name}
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self.app = FastAPI()

        @self.app.post("/backchannel-logout")
        def backchannel_logout(logout_token: str = Form()) -> Response:
            with self._lock:
                if self.fail_next:
                    self.fail_next -= 1
                    return Response(status_code=503)
                self.tokens.append(logout_token)
                self._arrived.notify_all()
            return Response(status_code=200)

        @self.app.post("/security-events")
        async def security_events(request: Request) -> Response:
            if request.headers.get("content-type") != "application/secevent+jwt":
                return Response(status_code=400)
            body = (await request.body()).decode()
            with self._lock:
                if self.fail_events_next:
                    self.fail_events_next -= 1
                    return Response(status_code=503)
                self.events.append(body)
                self._arrived.notify_all()
            return Response(status_code=202)

        @self.app.get("/jwks/{name}")
        def jwks(name: str) -> Response:
            document = self.key_sets.get(name)
            return JSONResponse(document) if document else Response(status_code=404)

        @self.app.get("/callback")
        def callback(request: Request) -> HTMLResponse:
            return HTMLResponse(
                "<!DOCTYPE html><html lang='en'><title>Back at the service</title>"
                "<h1>Back at the service</h1></html>"
            )

    @property
    def endpoint(self) -> str:
        return f"{self.url}/backchannel-logout"

    @property
    def events_endpoint(self) -> str:
        return f"{self.url}/security-events"

    def wait_for_events(self, count: int, timeout: float = 20.0) -> list[str]:
        with self._lock:
            self._arrived.wait_for(lambda: len(self.events) >= count, timeout=timeout)
            return list(self.events)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[str]:
        with self._lock:
            self._arrived.wait_for(lambda: len(self.tokens) >= count, timeout=timeout)
            return list(self.tokens)
