"""Outside authorities a proofing check asks, behind Protocols, and simulated adapters for them.

A real deployment writes one adapter per authority (a passport office's document checking service,
a driving licence agency, a credit reference agency for fraud, activity history and knowledge-based
questions) implementing these Protocols. The simulated adapters answer from a local registry the
operator or the tests fill (``broker simulated add ...``); they are for development and testing only
and say so in every answer's ``source``.

An adapter never raises for "no record": that is an answer. It raises :class:`AuthorityUnavailable`
when it cannot answer at all, and the journey tells the person to try again later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

from vouching.person import ClaimedPerson, normalise_name

SIMULATED = "simulated registry (development and testing only)"

DocumentKind = Literal["uk_passport", "uk_driving_licence"]
DocumentStatus = Literal["confirmed", "no_match", "lost_or_stolen", "cancelled"]


class AuthorityUnavailable(RuntimeError):
    """The authority could not be asked (down, timed out): not an answer about the person."""


@dataclass(frozen=True)
class DocumentQuery:
    kind: DocumentKind
    number: str
    family_name: str
    given_names: str
    birth_date: date
    expiry_date: date


@dataclass(frozen=True)
class DocumentAnswer:
    status: DocumentStatus
    source: str


@dataclass(frozen=True)
class FraudAnswer:
    score: int  # GPG 45 identity fraud score, 0..3
    indicators: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class ActivityAnswer:
    score: int  # GPG 45 activity history score, 0..4
    active_since: date | None
    source: str


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class KnowledgeAnswer:
    score: int  # GPG 45 verification score earned by the answers, 0..2
    correct: int
    asked: int
    source: str


class DocumentAuthority(Protocol):
    def check(self, query: DocumentQuery) -> DocumentAnswer: ...


class FraudCheck(Protocol):
    def check(self, person: ClaimedPerson) -> FraudAnswer: ...


class ActivityHistory(Protocol):
    def check(self, person: ClaimedPerson, today: date) -> ActivityAnswer: ...


class KnowledgeCheck(Protocol):
    def questions(self, person: ClaimedPerson) -> list[Question]: ...

    def mark(self, person: ClaimedPerson, answers: dict[str, str]) -> KnowledgeAnswer: ...


# The simulated registry: ``lookup(kind, reference)`` returns the entry's data, or None.
Lookup = Callable[[str, str], dict[str, Any] | None]


def person_reference(family_name: str, birth_date: date) -> str:
    return f"{normalise_name(family_name)}|{birth_date.isoformat()}"


@dataclass(frozen=True)
class Authorities:
    """The authorities one proofing journey asks."""

    documents: DocumentAuthority
    fraud: FraudCheck
    activity: ActivityHistory
    knowledge: KnowledgeCheck


def simulated(lookup: Lookup) -> Authorities:
    """Every authority simulated over one registry.

    Registry entries (``data``):
    - ``uk_passport`` / ``uk_driving_licence`` by document number: ``family_name``, ``given_names``,
      ``birth_date``, ``expiry_date`` (ISO dates), ``status`` (``valid``, ``lost_or_stolen``, ``cancelled``).
    - ``person`` by :func:`person_reference`: ``fraud`` (``clear``, ``flagged``; absent means nothing
      known), ``active_since`` (ISO date), ``questions`` (``[{"id", "text", "options", "answer"}]``).
    """
    return Authorities(
        SimulatedDocumentAuthority(lookup),
        SimulatedFraudCheck(lookup),
        SimulatedActivityHistory(lookup),
        SimulatedKnowledgeCheck(lookup),
    )


@dataclass(frozen=True)
class _Simulated:
    lookup: Lookup

    def person(self, person: ClaimedPerson) -> dict[str, Any] | None:
        return self.lookup("person", person_reference(person.family_name, person.birth_date))


class SimulatedDocumentAuthority(_Simulated):
    def check(self, query: DocumentQuery) -> DocumentAnswer:
        entry = self.lookup(query.kind, query.number.upper())
        same = entry is not None and (
            normalise_name(entry.get("family_name", "")) == normalise_name(query.family_name)
            and normalise_name(entry.get("given_names", "")) == normalise_name(query.given_names)
            and entry.get("birth_date") == query.birth_date.isoformat()
            and entry.get("expiry_date") == query.expiry_date.isoformat()
        )
        if entry is None or not same:
            return DocumentAnswer("no_match", SIMULATED)
        status = entry.get("status", "valid")
        if status == "valid":
            return DocumentAnswer("confirmed", SIMULATED)
        return DocumentAnswer("cancelled" if status == "cancelled" else "lost_or_stolen", SIMULATED)


class SimulatedFraudCheck(_Simulated):
    def check(self, person: ClaimedPerson) -> FraudAnswer:
        entry = self.person(person)
        if entry is None:
            # Checked and nothing found either way: the lowest passing score.
            return FraudAnswer(1, (), SIMULATED)
        if entry.get("fraud") == "flagged":
            return FraudAnswer(0, ("identity reported as misused",), SIMULATED)
        return FraudAnswer(2, (), SIMULATED)


class SimulatedActivityHistory(_Simulated):
    def check(self, person: ClaimedPerson, today: date) -> ActivityAnswer:
        entry = self.person(person)
        since = date.fromisoformat(entry["active_since"]) if entry and entry.get("active_since") else None
        return ActivityAnswer(activity_score(since, today), since, SIMULATED)


class SimulatedKnowledgeCheck(_Simulated):
    def _asked(self, person: ClaimedPerson) -> list[dict[str, Any]]:
        return list((self.person(person) or {}).get("questions", []))[:3]

    def questions(self, person: ClaimedPerson) -> list[Question]:
        return [Question(q["id"], q["text"], tuple(q["options"])) for q in self._asked(person)]

    def mark(self, person: ClaimedPerson, answers: dict[str, str]) -> KnowledgeAnswer:
        asked = self._asked(person)
        correct = sum(1 for q in asked if answers.get(q["id"]) == q["answer"])
        return KnowledgeAnswer(knowledge_score(correct, len(asked)), correct, len(asked), SIMULATED)


def activity_score(since: date | None, today: date) -> int:
    """GPG 45 activity history: how long the identity has been seen living in the community."""
    if since is None:
        return 0
    days = (today - since).days
    for minimum, score in ((5 * 365, 4), (3 * 365, 3), (365, 2), (180, 1)):
        if days >= minimum:
            return score
    return 0


def knowledge_score(correct: int, asked: int) -> int:
    """Knowledge-based verification: two or more questions, every one right, earns 2; all but one, 1."""
    if asked < 2:
        return 0
    if correct == asked:
        return 2
    if correct == asked - 1:
        return 1
    return 0
