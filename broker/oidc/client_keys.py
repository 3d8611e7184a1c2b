"""Relying services' public keys for private_key_jwt: registered JWKS, or fetched from their jwks_uri."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, cast

from joserfc.jwk import KeySet

from broker.oidc.outbound_http import outbound_client, read_limited
from broker.oidc.outbound_proxy import OutboundProxy
from broker.store.models import Client

JWKS_CACHE_SECONDS = 300
MAX_JWKS_BYTES = 256 * 1024


class ClientKeyResolver:
    def __init__(
        self, *, allow_private_outbound: bool, fetch_timeout: float = 5.0, proxy: OutboundProxy | None = None
    ) -> None:
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        # No redirects, no refused addresses, a size limit and a total time limit.
        self._http = outbound_client(
            allow_private=allow_private_outbound,
            timeout=fetch_timeout,
            total_timeout=2 * fetch_timeout,
            proxy=proxy,
        )

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
        with self._http.stream("GET", uri, headers={"Accept": "application/json"}) as response:
            response.raise_for_status()
            document = json.loads(read_limited(response, MAX_JWKS_BYTES))
        with self._lock:
            self._cache[uri] = (time.monotonic() + JWKS_CACHE_SECONDS, document)
        return document
