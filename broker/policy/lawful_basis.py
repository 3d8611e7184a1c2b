"""Which UK GDPR Article 6(1) basis an agreement's lawful basis names, and so whether people are asked
for their consent or told the service shares under another basis (pure).

An agreement keeps its lawful basis as the words its author wrote ("Public task (UK GDPR Article
6(1)(e)): the Fisheries Act"). The broker reads the basis from them once, here: an article reference
("6(1)(e)", "Article 6.1.e") settles it; failing that, the basis's name ("public task"). Words that
name no basis, or more than one, name none: the page then says nothing about consent and shows the
words as written (see ``is_consent``). Most public-service sharing rests on public task or a legal
obligation, not consent (ICO guidance on lawful bases), so consent is never assumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from broker.language import N_


@dataclass(frozen=True)
class Basis:
    """One of the six lawful bases of UK GDPR Article 6(1)."""

    letter: str  # a to f, as in Article 6(1)(a)
    name: str  # in English, as staff and receipts say it
    plain: str  # what it means for the person, in plain words (translated on the page)

    @property
    def article(self) -> str:
        return f"6(1)({self.letter})"

    @property
    def consent(self) -> bool:
        return self.letter == "a"


BASES = (
    Basis(
        "a",
        "consent",
        N_(
            "The service can only use your information if you agree. You can withdraw your consent at any time."
        ),
    ),
    Basis(
        "b",
        "contract",
        N_("The service needs your information for a contract with you, or one you asked for."),
    ),
    Basis("c", "legal obligation", N_("The law requires the service to use your information.")),
    Basis("d", "vital interests", N_("The service needs your information to protect someone's life.")),
    Basis(
        "e",
        "public task",
        N_("The service needs your information to do its official work in the public interest."),
    ),
    Basis("f", "legitimate interests", N_("The service uses your information for its legitimate interests.")),
)
BY_LETTER = {b.letter: b for b in BASES}

# "6(1)(e)", "6 (1) (e)", "6.1.e", "6(1)e": the article reference, letter captured.
_ARTICLE = re.compile(r"\b6\s*[(.]?\s*1\s*[).]?\s*[(.]?\s*([a-f])\s*\)?(?![a-z])", re.IGNORECASE)
# The basis's name, as authors write it.
_NAMES = {
    "a": re.compile(r"\bconsent\b", re.IGNORECASE),
    "b": re.compile(r"\bcontract(ual)?\b", re.IGNORECASE),
    "c": re.compile(r"\blegal obligations?\b", re.IGNORECASE),
    "d": re.compile(r"\bvital interests?\b", re.IGNORECASE),
    "e": re.compile(r"\bpublic (task|interest)\b|\bofficial authority\b", re.IGNORECASE),
    "f": re.compile(r"\blegitimate interests?\b", re.IGNORECASE),
}


def basis_of(words: str) -> Basis | None:
    """The Article 6(1) basis ``words`` name: by article reference, else by name; None when they name
    none, or more than one (a reader could not tell which)."""
    letters = {m.lower() for m in _ARTICLE.findall(words)}
    if not letters:
        letters = {letter for letter, name in _NAMES.items() if name.search(words)}
    return BY_LETTER[letters.pop()] if len(letters) == 1 else None


def is_consent(words: str) -> bool:
    """Whether the agreement rests on the person's consent (Article 6(1)(a)): only then is the page
    titled and recorded as consent."""
    basis = basis_of(words)
    return basis is not None and basis.consent
