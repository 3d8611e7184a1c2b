"""The identity levels (GPG 45 confidence, as One Login names them in ``vtr``/``vot``) and their order:
the one definition every module compares levels with.

``P0`` is no identity; ``P1`` low, ``P2`` medium, ``P3`` high confidence.
"""

from __future__ import annotations

from vouching.text import N_

LEVELS: tuple[str, ...] = ("P0", "P1", "P2", "P3")
NO_IDENTITY = LEVELS[0]

# How a level is said to a person, who never reads "P2": the one mapping from level to words. Each
# level has its word and its whole sentence (Welsh mutates the word inside the sentence: "canolig",
# "i lefel ganolig"), so a page never builds the sentence out of the word.
LEVEL_WORDS: dict[str, str] = {
    "P0": N_("not checked"),
    "P1": N_("low"),
    "P2": N_("medium"),
    "P3": N_("high"),
}
CHECKED_TO: dict[str, str] = {
    "P0": N_("Your identity has not been checked"),
    "P1": N_("Your identity is checked to a low level"),
    "P2": N_("Your identity is checked to a medium level"),
    "P3": N_("Your identity is checked to a high level"),
}


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
