"""Relying services' public keys for private_key_jwt: registered JWKS, or fetched from their jwks_uri."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, cast

from joserfc.jwk import KeySet

from broker.outbound.client import outbound_client, read_limited
from broker.outbound.proxy import OutboundProxy
from broker.store.models import Client

JWKS_CACHE_SECONDS = 300
# A jwks_uri that failed is not asked again for this long: its service's token requests fail at once
# instead of each holding one of the few protocol threads (broker/deps.py) for the whole time-out.
JWKS_FAILED_SECONDS = 15
MAX_JWKS_BYTES = 256 * 1024


class KeysUnavailable(LookupError):
    """The client's jwks_uri failed a moment ago; it is not asked again yet."""


class ClientKeyResolver:
    def __init__(
        self, *, allow_private_outbound: bool, fetch_timeout: float = 5.0, proxy: OutboundProxy | None = None
    ) -> None:
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._failed: dict[str, float] = {}  # jwks_uri -> until when it is not asked again
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
            failed_until = self._failed.get(uri, 0.0)
        now = time.monotonic()
        if hit and hit[0] > now:
            return hit[1]
        if failed_until > now:
            raise KeysUnavailable("the client's jwks_uri failed a moment ago")
        try:
            with self._http.stream("GET", uri, headers={"Accept": "application/json"}) as response:
                response.raise_for_status()
                document = json.loads(read_limited(response, MAX_JWKS_BYTES))
        except Exception:
            with self._lock:
                self._failed[uri] = time.monotonic() + JWKS_FAILED_SECONDS
            raise
        with self._lock:
            self._cache[uri] = (time.monotonic() + JWKS_CACHE_SECONDS, document)
            self._failed.pop(uri, None)
        return document
