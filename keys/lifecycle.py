"""The key life cycle, as pure decisions: next (published, not signing) → current (signs) → retired
(published for verification until every token it signed has expired) → removed.

A key never signs before it has been published as ``next`` for longer than relying services may
cache the JWKS, so they already know it when the first token signed with it arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

NEXT, CURRENT, RETIRED = "next", "current", "retired"

# How long relying services may keep the JWKS (its Cache-Control is built from these), and so how long
# a next key must have been published before it may sign.
JWKS_MAX_AGE = 300
JWKS_STALE_WHILE_REVALIDATE = 60
NEXT_KEY_MIN_AGE = timedelta(seconds=JWKS_MAX_AGE + JWKS_STALE_WHILE_REVALIDATE)


@dataclass(frozen=True)
class KeyState:
    kid: str
    alg: str
    state: str
    created_at: datetime
    retired_at: datetime | None = None


@dataclass(frozen=True)
class Plan:
    retire: str | None = None  # current (or named) key → retired
    promote: str | None = None  # next → current
    create_next: bool = False
    create_current: bool = False  # only when there has never been a key to publish ahead
    remove: tuple[str, ...] = ()
    refused: str | None = None  # why nothing may change yet

    @property
    def changes_anything(self) -> bool:
        return bool(self.retire or self.promote or self.create_next or self.create_current or self.remove)


def _one(keys: Sequence[KeyState], alg: str, state: str) -> KeyState | None:
    found = [k for k in keys if k.alg == alg and k.state == state]
    return found[0] if found else None


def removable(keys: Sequence[KeyState], now: datetime, retention: timedelta) -> tuple[str, ...]:
    """Retired keys whose every token has expired."""
    return tuple(
        k.kid
        for k in keys
        if k.state == RETIRED and k.retired_at is not None and now - k.retired_at > retention
    )


def plan_ensure(keys: Sequence[KeyState], alg: str) -> Plan:
    """What a fresh or damaged key set needs so that ``alg`` has a current and a next key."""
    current, nxt = _one(keys, alg, CURRENT), _one(keys, alg, NEXT)
    if current is None and nxt is not None:
        return Plan(promote=nxt.kid, create_next=True)
    return Plan(create_current=current is None, create_next=nxt is None)


def plan_rotation(
    keys: Sequence[KeyState], alg: str, now: datetime, retention: timedelta, *, force: bool = False
) -> Plan:
    """Rotate: next becomes current, current retires, a new next is made; expired keys go.

    Refused while the next key is younger than the JWKS may be cached: tokens it signed would fail at
    services still holding the copy without it. ``force`` (emergencies only) rotates anyway."""
    current, nxt = _one(keys, alg, CURRENT), _one(keys, alg, NEXT)
    remove = removable([k for k in keys if k.alg == alg], now, retention)
    if nxt is None:
        # Nothing was published ahead: publish one now and rotate to it next time.
        return Plan(create_next=True, create_current=current is None, remove=remove)
    published_for = now - nxt.created_at
    if published_for < NEXT_KEY_MIN_AGE and not force:
        ready_at = nxt.created_at + NEXT_KEY_MIN_AGE
        return Plan(
            refused=f"the next {alg} key was published {int(published_for.total_seconds())} s ago and "
            f"relying services may cache the JWKS for {int(NEXT_KEY_MIN_AGE.total_seconds())} s: "
            f"it may sign from {ready_at:%Y-%m-%d %H:%M:%S} UTC"
        )
    return Plan(retire=current.kid if current else None, promote=nxt.kid, create_next=True, remove=remove)


def plan_retire(keys: Sequence[KeyState], kid: str, now: datetime, retention: timedelta) -> Plan:
    """Retire one key now. Retiring the current key is a rotation; retiring next replaces it."""
    target = next((k for k in keys if k.kid == kid), None)
    if target is None or target.state == RETIRED:
        return Plan()
    if target.state == CURRENT:
        if _one(keys, target.alg, NEXT) is None:
            # A key retired in a hurry (compromise) cannot wait for a published successor.
            return Plan(retire=target.kid, create_current=True, create_next=True)
        # Nor for its successor to have been published long enough.
        return plan_rotation(keys, target.alg, now, retention, force=True)
    return Plan(retire=target.kid, create_next=True)
