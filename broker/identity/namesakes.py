"""Vouches and the people documents proved (the review rule ``not_proven_elsewhere``): which namesakes
a reviewer has yet to weigh a vouch against, which vouches a document proof sends back to review, and
when a reviewer's acceptance lets a vouch count. Pure decisions on values, tested without a database;
``broker.identity.vouching`` gathers the facts and keeps what they decide."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vouching.rules import PROVEN_ELSEWHERE, not_proven_elsewhere

RULE = not_proven_elsewhere.__name__


def held_entry(namesakes: Sequence[str], *, counted: bool) -> dict[str, Any]:
    """What a vouch keeps of being held for a namesake: the rule, the accounts it named, and whether
    the vouch had already counted towards an identity (so had served its cooling-off)."""
    return {
        "rule": RULE,
        "reason": PROVEN_ELSEWHERE,
        "review": True,
        "proven_accounts": sorted(namesakes),
        "counted": counted,
    }


def unweighed(refusals: Sequence[Mapping[str, Any]], reviewed: bool, namesakes: Iterable[str]) -> list[str]:
    """The document-proven namesakes no reviewer has yet accepted this vouch knowing of. A reviewer who
    accepted it while it was held for some of them has weighed those people; anyone proven since is
    news. A hold kept before holds named the accounts covers them all, as it always did."""
    wanted = sorted(set(namesakes))
    if not reviewed:
        return wanted
    known: set[str] = set()
    for entry in refusals:
        if entry["rule"] != RULE:
            continue
        if "proven_accounts" not in entry:
            return []
        known |= set(entry["proven_accounts"])
    return [a for a in wanted if a not in known]


@dataclass(frozen=True)
class CountedVouch:
    """A vouch an identity counted, as the review rules see it."""

    vouch_id: str
    refusals: tuple[Mapping[str, Any], ...]
    reviewed: bool  # a reviewer has decided it


def to_hold(counted: Iterable[CountedVouch], namesakes: Sequence[str]) -> list[str]:
    """The vouches an identity counted that go back to review now that these accounts hold its person's
    name and date of birth proven by a document: all of them, but for any a reviewer already accepted
    knowing of every one of these people. None when there is no namesake."""
    if not namesakes:
        return []
    return [v.vouch_id for v in counted if unweighed(v.refusals, v.reviewed, namesakes)]


def cooled_off(refusals: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a held vouch had counted before it was held: its cooling-off is over, so a reviewer's
    acceptance lets it count at once rather than after another one."""
    return bool(refusals) and bool(refusals[-1].get("counted"))
