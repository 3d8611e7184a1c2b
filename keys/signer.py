"""The one way the broker signs JWTs, and checks the ones it signed.

Private keys are decrypted once and cached; the cache refreshes every few seconds so a rotation made
by another process is picked up without a restart, and never per request.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

import jwt
from jwt.api_jwk import PyJWK

from keys.errors import KeyError_, NoSigningKey, TokenInvalid
from keys.generate import ALGORITHMS, PrivateKey
from keys.service import KeyService

REFRESH_SECONDS = 15.0
# An unknown kid triggers a reload at most this often (a flood of junk kids must not hit the database).
UNKNOWN_KID_RELOAD_SECONDS = 2.0
# Readiness decrypts the current keys from storage and signs with them at most this often.
USABLE_CHECK_SECONDS = 5.0


class Signer(Protocol):
    def sign(
        self, claims: dict[str, Any], *, alg: str = "ES256", typ: str | None = None, kid_prefix: str = ""
    ) -> str: ...

    def jwks(self) -> dict[str, Any]: ...

    def check_usable(self) -> None: ...

    def verify(
        self,
        token: str,
        *,
        audience: str | list[str] | None,
        issuer: str,
        typ: str | None = None,
        require_exp: bool = True,
        leeway: int = 30,
    ) -> dict[str, Any]: ...


class KeyringSigner:
    def __init__(
        self,
        service: KeyService,
        refresh_seconds: float = REFRESH_SECONDS,
        usable_check_seconds: float = USABLE_CHECK_SECONDS,
    ) -> None:
        self.service = service
        self.refresh_seconds = refresh_seconds
        self.usable_check_seconds = usable_check_seconds
        self._usable: tuple[float, KeyError_ | None] | None = None  # (checked at, what failed)
        self._lock = threading.Lock()
        self._reloading = threading.Lock()
        self._loaded_at = 0.0
        self._signing: dict[str, tuple[str, PrivateKey]] = {}
        self._public: dict[str, PyJWK] = {}
        self._jwks: dict[str, Any] = {"keys": []}
        self._reload()

    def _reload(self) -> None:
        held = {kid: key for kid, key in self._signing.values()}
        signing, published = self.service.keyring(held)
        public = {jwk["kid"]: PyJWK(jwk, algorithm=jwk["alg"]) for jwk in published}
        with self._lock:
            self._signing, self._public = signing, public
            self._jwks = {"keys": published}
            self._loaded_at = time.monotonic()

    def _stale(self) -> bool:
        return time.monotonic() - self._loaded_at > self.refresh_seconds

    def _fresh(self) -> None:
        # One thread reloads; the others keep signing with the keys they have (still valid: a rotation
        # publishes the next key well before it signs).
        if self._stale() and self._reloading.acquire(blocking=False):
            try:
                if self._stale():
                    self._reload()
            finally:
                self._reloading.release()

    def sign(
        self, claims: dict[str, Any], *, alg: str = "ES256", typ: str | None = None, kid_prefix: str = ""
    ) -> str:
        """``kid_prefix`` names the key in another scheme (``did:web:host#``) for tokens verified that way."""
        self._fresh()
        entry = self._signing.get(alg)
        if entry is None:
            raise NoSigningKey(f"no current {alg} signing key")
        kid, key = entry
        headers: dict[str, Any] = {"kid": kid_prefix + kid, "typ": typ or "JWT"}
        return jwt.encode(claims, key, algorithm=alg, headers=headers)

    def jwks(self) -> dict[str, Any]:
        self._fresh()
        return self._jwks

    def check_usable(self) -> None:
        """Raise :class:`KeyError_` unless every algorithm's current key decrypts from storage (with
        the KEK as configured now) and signs a token its published public key verifies. For
        readiness: the answer is kept for ``usable_check_seconds``."""
        now = time.monotonic()
        if self._usable is None or now - self._usable[0] >= self.usable_check_seconds:
            self._usable = (now, self._probe())
        failure = self._usable[1]
        if failure is not None:
            raise type(failure)(str(failure))

    def _probe(self) -> KeyError_ | None:
        try:
            signing = self.service.current_private_keys()
            public = {jwk["kid"]: jwk for jwk in self.service.published()}
            for alg in ALGORITHMS:
                if alg not in signing:
                    raise NoSigningKey(f"no current {alg} signing key")
                kid, key = signing[alg]
                # Verified with the published half: relying services must be able to check it too.
                probe = jwt.encode({"probe": kid}, key, algorithm=alg, headers={"kid": kid})
                jwt.decode(probe, PyJWK(public.get(kid, {}), algorithm=alg).key, algorithms=[alg])
        except KeyError_ as exc:
            return exc
        except (jwt.PyJWTError, ValueError) as exc:
            return KeyError_(f"a current key does not sign as published: {type(exc).__name__}")
        return None

    def _public_key(self, kid: str) -> PyJWK:
        key = self._public.get(kid)
        if key is None and time.monotonic() - self._loaded_at > UNKNOWN_KID_RELOAD_SECONDS:
            self._reload()
            key = self._public.get(kid)
        if key is None:
            raise TokenInvalid("unknown key id")
        return key

    def verify(
        self,
        token: str,
        *,
        audience: str | list[str] | None,
        issuer: str,
        typ: str | None = None,
        require_exp: bool = True,
        leeway: int = 30,
    ) -> dict[str, Any]:
        """Claims of a token this broker signed; raises :class:`TokenInvalid` on anything wrong."""
        self._fresh()
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            if not isinstance(kid, str):
                raise TokenInvalid("no key id")
            key = self._public_key(kid)
            if typ is not None and header.get("typ") != typ:
                raise TokenInvalid("wrong token type")
            # The algorithm comes from our key, never from the token's header.
            return jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                audience=audience,
                issuer=issuer,
                leeway=leeway,
                options={
                    "require": ["exp", "iss"] if require_exp else ["iss"],
                    "verify_exp": require_exp,
                    "verify_aud": audience is not None,
                },
            )
        except jwt.PyJWTError as exc:
            raise TokenInvalid(type(exc).__name__) from None
