"""Relying services' public keys for private_key_jwt: registered JWKS, or fetched from their jwks_uri."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

import httpx
from joserfc.jwk import KeySet

from broker.store.models import Client

JWKS_CACHE_SECONDS = 300


class ClientKeyResolver:
    def __init__(self, fetch_timeout: float = 5.0) -> None:
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._timeout = fetch_timeout

    def key_set(self, client: Client) -> KeySet:
        if client.jwks:
            return KeySet.import_key_set(cast(Any, client.jwks))
        if not client.jwks_uri:
            raise LookupError("client has no keys")
        return KeySet.import_key_set(cast(Any, self._fetch(client.jwks_uri)))

    def _fetch(self, uri: str) -> dict[str, Any]:
        with self._lock:
            hit = self._cache.get(uri)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        response = httpx.get(uri, timeout=self._timeout, follow_redirects=False)
        response.raise_for_status()
        document = response.json()
        with self._lock:
            self._cache[uri] = (time.monotonic() + JWKS_CACHE_SECONDS, document)
        return document
