"""Which Article 6(1) basis an agreement's words name, and whether that is consent (pure)."""

from __future__ import annotations

import pytest

from broker.policy.lawful_basis import BASES, basis_of, is_consent
from broker.policy.service import DEVELOPMENT_LAWFUL_BASIS, REGISTRATION_LAWFUL_BASIS


@pytest.mark.parametrize(
    ("words", "letter", "consent"),
    [
        ("Consent (UK GDPR Article 6(1)(a))", "a", True),
        (DEVELOPMENT_LAWFUL_BASIS, "a", True),
        ("Consent", "a", True),
        ("UK GDPR 6.1.a", "a", True),
        ("Article 6 (1) (a)", "a", True),
        ("Public task (UK GDPR Article 6(1)(e))", "e", False),
        ("Public task: the Fisheries Act", "e", False),
        ("Public task", "e", False),
        ("Exercise of official authority", "e", False),
        ("6(1)(c): Social Security Administration Act 1992", "c", False),
        ("Legal obligation", "c", False),
        ("Performance of a contract", "b", False),
        ("Vital interests", "d", False),
        ("Legitimate interests", "f", False),
        # The article reference settles it, whatever else the words mention.
        ("Public task (6(1)(e)); consent under the common law duty of confidentiality", "e", False),
        ("Not consent: 6(1)(e)", "e", False),
        # Words that name no basis, or two, name none: never read as consent.
        ("Public task, or consent where the person is under 18", None, False),
        ("6(1)(a) and 6(1)(e)", None, False),
        (REGISTRATION_LAWFUL_BASIS, None, False),
        ("", None, False),
        ("Section 6(1)(g) of the Fisheries Act", None, False),
        ("Consentino Ltd's contractual terms", "b", False),  # "consent" only as a whole word
    ],
)
def test_the_basis_is_read_from_the_words_once(words, letter, consent):
    basis = basis_of(words)
    assert (basis.letter if basis else None) == letter
    assert is_consent(words) is consent


def test_each_basis_has_its_article_and_plain_words():
    assert [b.article for b in BASES] == [f"6(1)({x})" for x in "abcdef"]
    assert [b.consent for b in BASES] == [True] + [False] * 5
    assert all(b.plain.endswith(".") for b in BASES)
