"""Signed checkpoints of the audit log's head, kept outside the database.

A hash chain shows an entry changed, removed or reordered, but not the newest entries removed: what
is left is still a whole chain. So every minute or so the broker signs the head it has checked (seq,
hash, count of entries, time) with its signing keys, as it signs ID tokens (ES256, keys/), and appends
the token as one line to a file (``BROKER_AUDIT_CHECKPOINT_FILE``), writes it to the log and sets a
metric. ``broker audit verify`` reads the file back: a log shorter than a checkpoint was cut short,
and an entry whose hash differs from a checkpoint's was rewritten."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import jwt

from broker.audit.chain import Head
from keys import Signer, TokenInvalid

TYP = "audit-checkpoint+jwt"


def claims(issuer: str, head: Head, now: datetime) -> dict[str, object]:
    # Entries are numbered from 1 with no gap in a whole chain, so the count is the head's seq; it is
    # signed as well, for readers who do not know that.
    return {"iss": issuer, "iat": int(now.timestamp()), "seq": head.seq, "hash": head.hash, "count": head.seq}


@dataclass
class Read:
    anchors: dict[int, str] = field(default_factory=dict)  # seq → hash, from every checkpoint that verifies
    checked: int = 0
    skipped: int = 0  # signed by a key since pruned: they can no longer be checked
    problems: list[str] = field(default_factory=list)

    @property
    def newest(self) -> Head | None:
        if not self.anchors:
            return None
        seq = max(self.anchors)
        return Head(seq, self.anchors[seq])


class Checkpoints:
    def __init__(self, path: Path, signer: Signer, issuer: str) -> None:
        self.path = path
        self.signer = signer
        self.issuer = issuer

    def write(self, head: Head, now: datetime) -> str:
        token = self.signer.sign(claims(self.issuer, head, now), alg="ES256", typ=TYP)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write of one whole line in append mode: lines from several processes do not interleave.
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, (token + "\n").encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        return token

    def read(self) -> Read:
        if not self.path.exists():
            return Read()
        return self.check(self.path.read_text(encoding="utf-8", errors="replace").splitlines())

    def check(self, lines: Iterable[str]) -> Read:
        found = Read()
        known = {jwk.get("kid") for jwk in self.signer.jwks().get("keys", [])}
        for number, line in enumerate(lines, start=1):
            token = line.strip()
            if not token:
                continue
            try:
                kid = jwt.get_unverified_header(token).get("kid")
            except jwt.PyJWTError:
                found.problems.append(f"checkpoint on line {number} is not a signed token")
                continue
            if kid not in known:
                found.skipped += 1
                continue
            try:
                signed = self.signer.verify(
                    token, audience=None, issuer=self.issuer, typ=TYP, require_exp=False
                )
                seq, hash_ = int(signed["seq"]), str(signed["hash"])
            except (TokenInvalid, KeyError, TypeError, ValueError):
                found.problems.append(f"checkpoint on line {number} does not verify with the broker's keys")
                continue
            if found.anchors.get(seq, hash_) != hash_:
                found.problems.append(f"checkpoints disagree about entry {seq} (line {number})")
                continue
            found.anchors[seq] = hash_
            found.checked += 1
        return found
