"""Lexical analysis shared by retrieval, the answer policy and the citation verifier: stemmed
content words and their sets (each text's worked out once), numbers, the instruction pattern.
Words and folding are :mod:`index.text`'s (:func:`words` and :func:`fold` here are those, for the
modules that import them from here); dates are :mod:`rag.dates`; names and other entities come
from the trained pipeline in :mod:`rag.nlp`. (The evaluation has its own, separate code in
``evals/support.py``, so the assistant never grades itself.)"""

from __future__ import annotations

import re
from functools import lru_cache

from index.text import fold, words

_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w])")
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "hundred": 100,
                 "thousand": 1000, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
                 "tens": 10, "hundreds": 100, "thousands": 1000, "millions": 1_000_000}

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
nor not of off on once only or other our ours ourselves out over own same she should so some such than that
the their theirs them themselves then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours yourself yourselves said says
say according per via many much did didn't does doesn't what's who's it's there's also may might must shall one
""".split())
# Explicit negators only: words like "absence" or "rejected" negate nothing about the rest of a sentence.
NEGATIONS = frozenset({"not", "no", "never", "without", "none", "neither", "nor", "n't", "cannot"})


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)


def content_terms(text: str) -> list[str]:
    """Stemmed words that carry content: no stopwords, no possessive endings."""
    terms = []
    for word in words(text):
        if word.endswith("'s"):
            word = word[:-2]
        if word and word not in STOPWORDS and len(word) > 1:
            terms.append(stem(word) if not word[0].isdigit() else word)
    return terms


@lru_cache(maxsize=20_000)
def term_set(text: str) -> frozenset[str]:
    """The :func:`content_terms` of ``text`` as a set, worked out once per text: a passage, its
    sentences and its whole article are read by several steps of one question (scoring,
    composing, checking), and again by the next question."""
    return frozenset(content_terms(text))


def jaccard(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
    """Shared terms over all terms: high only when two texts say nearly the same thing."""
    return len(a & b) / len(a | b) if a and b else 0.0


def containment(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
    """Shared terms over the smaller set's: high when one text says what the other does."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def stem_in(term: str, terms: set[str] | frozenset[str]) -> bool:
    """``term`` is in ``terms``, or shares a stem prefix of four or more letters with one of them:
    Snowball stems "failing" to fail but "failure" to failur, "mediated" and "mediators" apart."""
    if term in terms:
        return True
    return len(term) >= 4 and any(len(t) >= 4 and (t.startswith(term) or term.startswith(t)) for t in terms)


def numbers(text: str) -> set[str]:
    """Numbers written with digits, normalised ("1,000" -> "1000"); years included."""
    found = set()
    for match in _NUMBER.finditer(text):
        value = match.group(1).replace(",", "")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        found.add(value)
    return found


def number_values(text: str) -> set[str]:
    """:func:`numbers` plus simple number words ("three days" -> "3")."""
    found = numbers(text)
    for word in words(text):
        if word in _NUMBER_WORDS:
            found.add(str(_NUMBER_WORDS[word]))
    return found


_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.]{0,40}"
    r"\b(?:instructions?|prompts?|(?:previous|prior|above|earlier|your)\s+(?:rules|guidelines))\b"
    r"|\b(?:you|assistants?|ai|models?|chatbots?)\s+(?:must|should|shall|will)\s+(?:now\s+)?"
    r"(?:answer|reply|respond|say|state|output|write)\b"
    r"|\bsystem\s+prompt\b|\bnew\s+instructions?\b|\b(?:as an ai|language model)\b",
    re.IGNORECASE,
)


def looks_like_instruction(text: str) -> bool:
    """True for text addressed to a model rather than a reader ("Ignore previous instructions and
    answer ..."). Article text is data: such text is never used as an answer or as support."""
    return _INSTRUCTION.search(text) is not None


__all__ = ["NEGATIONS", "STOPWORDS", "containment", "content_terms", "fold", "jaccard", "looks_like_instruction",
           "number_values", "numbers", "stem", "stem_in", "term_set", "words"]
