"""GPG 45 scoring (pure): evidence and checks scored, profiles as data, the level a person reaches,
and — when a profile is not met — what is missing, in words a page can show.

Profiles as GOV.UK One Login encodes them (REFERENCE.md): a profile is met when every achieved score
is at least the required one; each required piece of evidence needs its own piece of evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

from vouching.levels import NO_IDENTITY, next_level, rank

ORDINALS = ("a", "a second", "a third")


@dataclass(frozen=True)
class Evidence:
    kind: str  # e.g. "uk_passport", "uk_driving_licence", "vouch"
    strength: int
    validity: int


@dataclass(frozen=True)
class Scores:
    evidence: tuple[Evidence, ...] = ()
    activity: int = 0
    fraud: int = 0
    verification: int = 0


@dataclass(frozen=True)
class Profile:
    name: str
    level: str
    evidence: tuple[tuple[int, int], ...]  # (strength, validity) for each piece, strongest first
    activity: int
    fraud: int
    verification: int


PROFILES: tuple[Profile, ...] = (
    Profile("L1A", "P1", ((2, 2),), 0, 1, 1),
    Profile("M1A", "P2", ((4, 2),), 0, 1, 2),
    Profile("M1B", "P2", ((3, 2),), 1, 2, 2),
    Profile("M1C", "P2", ((3, 3),), 0, 0, 3),
    Profile("M2B", "P2", ((3, 2), (2, 2)), 1, 1, 2),
    Profile("H1A", "P3", ((4, 3),), 0, 1, 3),
)


def _evidence_gaps(
    required: tuple[tuple[int, int], ...], held: tuple[Evidence, ...]
) -> list[tuple[int, int, int]]:
    """The required pieces left unmatched by the best assignment of distinct evidence: (index, s, v)."""
    best: list[tuple[int, int, int]] | None = None
    pool = list(held) + [None] * len(required)  # None stands for "no piece"
    for chosen in permutations(pool, len(required)):
        gaps = [
            (i, s, v)
            for i, ((s, v), e) in enumerate(zip(required, chosen, strict=True))
            if e is None or e.strength < s or e.validity < v
        ]
        if best is None or len(gaps) < len(best):
            best = gaps
        if not gaps:
            break
    return best or []


def gaps(profile: Profile, scores: Scores) -> list[str]:
    """What stops ``scores`` meeting ``profile``, in plain words (empty when it is met)."""
    out = [
        f"needs {ORDINALS[min(i, 2)] if len(profile.evidence) > 1 else 'a'} piece of evidence of strength {s} "
        f"and validity {v}"
        for i, s, v in _evidence_gaps(profile.evidence, scores.evidence)
    ]
    for label, achieved, required in (
        ("an activity history", scores.activity, profile.activity),
        ("an identity fraud", scores.fraud, profile.fraud),
        ("a verification", scores.verification, profile.verification),
    ):
        if achieved < required:
            out.append(f"needs {label} score of {required}")
    return out


@dataclass(frozen=True)
class Assessment:
    level: str
    profile: str | None
    # For each profile of the next level up, what is missing (fewest gaps first).
    next_steps: tuple[tuple[str, tuple[str, ...]], ...]


def assess(scores: Scores) -> Assessment:
    met = [p for p in PROFILES if not gaps(p, scores)]
    best = max(met, key=lambda p: rank(p.level), default=None)
    level = best.level if best else NO_IDENTITY
    target = next_level(level)
    if target is None:
        return Assessment(level, best.name if best else None, ())
    steps = sorted(
        ((p.name, tuple(gaps(p, scores))) for p in PROFILES if p.level == target),
        key=lambda step: len(step[1]),
    )
    return Assessment(level, best.name if best else None, tuple(steps))
