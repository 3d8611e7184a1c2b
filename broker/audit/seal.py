"""Release seals (pure): how the release ledger is brought into the audit chain.

A release is written on every token and userinfo call, so it does not take the audit log's lock (one
lock for every release would serialise them). Instead a sealing step appends one audit entry,
``releases.sealed``, every few seconds: it covers the releases whose ``released_at`` lies in a window
``(after, until]`` that starts where the previous seal ended, and holds their count, the first and
last id and a SHA-256 digest over their content in a fixed order (``released_at``, then id). The
windows follow one another with no gap, so every release up to the last seal's ``until`` belongs to
exactly one seal, and the verifier recomputes each seal from the rows: a sealed release deleted,
altered, or added afterwards changes its window's count or digest. The seal entry itself is in the
keyed chain, so nobody without the key can write a matching seal.

``until`` is a few seconds behind the sealer's clock (``SETTLE``), so a release whose transaction is
still open when the seal is made is not left behind a window already sealed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from broker.audit.chain import Broken

SEALED = "releases.sealed"
SETTLE = timedelta(seconds=2)


@dataclass(frozen=True)
class Release:
    """A release ledger row, as far as the seal covers it (every column)."""

    id: str
    account_id: str
    client_id: str
    mou_version_id: str
    consent_id: str | None
    grant_id: str | None
    endpoint: str
    claims: list[str]
    released_at: datetime


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def release_line(r: Release) -> bytes:
    """One release's canonical content."""
    return (
        json.dumps(
            [
                r.id,
                r.account_id,
                r.client_id,
                r.mou_version_id,
                r.consent_id,
                r.grant_id,
                r.endpoint,
                list(r.claims),
                _utc(r.released_at).isoformat(),
            ],
            separators=(",", ":"),
        ).encode()
        + b"\n"
    )


@dataclass(frozen=True)
class Seal:
    """What a ``releases.sealed`` entry holds."""

    after: datetime | None  # None: from the beginning of the ledger
    until: datetime
    count: int
    first: str | None
    last: str | None
    digest: str

    def details(self) -> dict[str, Any]:
        return {
            "after": _utc(self.after).isoformat() if self.after else None,
            "until": _utc(self.until).isoformat(),
            "count": self.count,
            "first": self.first,
            "last": self.last,
            "digest": self.digest,
        }

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> Seal:
        after = details.get("after")
        return cls(
            after=datetime.fromisoformat(after) if after else None,
            until=datetime.fromisoformat(details["until"]),
            count=int(details["count"]),
            first=details.get("first"),
            last=details.get("last"),
            digest=str(details["digest"]),
        )


def seal(after: datetime | None, until: datetime, releases: Iterable[Release]) -> Seal:
    """The seal of ``releases``: those in the window ``(after, until]``, in (released_at, id) order."""
    digest, count, first, last = hashlib.sha256(), 0, None, None
    for r in releases:
        digest.update(release_line(r))
        count += 1
        first = first or r.id
        last = r.id
    return Seal(after, until, count, first, last, digest.hexdigest())


def window_until(now: datetime) -> datetime:
    """Where a seal made at ``now`` ends: SETTLE behind, for transactions still open."""
    return _utc(now) - SETTLE


def _in_window(releases: Iterator[Release], held: list[Release], until: datetime) -> list[Release]:
    """The releases up to ``until`` from the ordered stream (``held`` carries one looked-ahead row)."""
    taken: list[Release] = []
    while True:
        r = held.pop() if held else next(releases, None)
        if r is None:
            return taken
        if _utc(r.released_at) > until:
            held.append(r)
            return taken
        taken.append(r)


@dataclass(frozen=True)
class SealsChecked:
    sealed: int  # releases covered by a seal
    unsealed: int  # releases after the last seal (the last few seconds)


def check_seals(seals: Iterable[tuple[int, Seal]], releases: Iterable[Release]) -> Broken | SealsChecked:
    """Each seal (entry seq, seal) against the release rows in (released_at, id) order: the first
    seal whose window no longer matches, or how many releases are sealed and how many not yet."""
    stream, held = iter(releases), list[Release]()
    previous_until: datetime | None = None
    sealed = 0
    for seq, s in seals:
        if s.after != previous_until:
            return Broken(seq, "release seal does not start where the previous one ended")
        window = _in_window(stream, held, _utc(s.until))
        again = seal(s.after, s.until, window)
        if again.count != s.count:
            change = "added" if again.count > s.count else "deleted"
            return Broken(seq, f"{abs(again.count - s.count)} sealed release(s) {change} since it was sealed")
        if again != s:
            return Broken(seq, "a sealed release was altered since it was sealed")
        previous_until, sealed = _utc(s.until), sealed + s.count
    return SealsChecked(sealed, len(held) + sum(1 for _ in stream))
