"""The identity levels (GPG 45 confidence, as One Login names them in ``vtr``/``vot``) and their order:
the one definition every module compares levels with.

``P0`` is no identity; ``P1`` low, ``P2`` medium, ``P3`` high confidence.
"""

from __future__ import annotations

LEVELS: tuple[str, ...] = ("P0", "P1", "P2", "P3")
NO_IDENTITY = LEVELS[0]


def rank(level: str) -> int:
    """Where ``level`` stands in :data:`LEVELS` (raises ValueError for anything else)."""
    return LEVELS.index(level)


def at_least(level: str, minimum: str) -> bool:
    return rank(level) >= rank(minimum)


def is_level(text: str) -> bool:
    return text in LEVELS


def next_level(level: str) -> str | None:
    """The level above ``level``, or None at the top."""
    i = rank(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None
