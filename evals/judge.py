"""The eval's independent judge: answers scored from gold data only.

Nothing here reads the assistant's code or shares its word lists (nor those of the support check
in :mod:`evals.support`). Three judgements:

- **Gold span** (SQuAD): the answer contains one of the gold answers, both normalised as the
  official SQuAD script does (lower case, the articles a/an/the removed, spaces collapsed) except
  that punctuation, ASCII or not, becomes a space instead of vanishing, as a whole-token run. So
  "Rollo's" holds "Rollo" and "Oursel—led" holds "Oursel", but "Catholicism" does not hold
  "Catholic". ``[n]`` citation markers are removed first.
- **Citation correctness**: a citation is correct when its quote (the words the answer shows for
  it) comes from the article of a gold evidence quote of the question and overlaps that quote:
  the longest run of consecutive tokens the two share is at least :data:`OVERLAP` of the shorter
  one's tokens. Tokens are the word characters of the text after :func:`evals.metrics.normalise`
  (case, accents, quote marks and dashes folded). So a cited sentence that holds the gold quote,
  or a gold sentence that holds the cited clause, counts; a neighbouring sentence of the same
  article does not.
- Abstention is the assistant's own flag (``answer.abstained``), scored against ``answerable``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Sequence

from evals.metrics import normalise

#: Least share of the shorter span's tokens that must run consecutively in both.
OVERLAP = 0.5

_MARKERS = re.compile(r"\[\d+\]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_TOKEN = re.compile(r"\w+")


# ---- SQuAD gold spans ------------------------------------------------------------------------


def squad_normalise(text: str) -> str:
    """SQuAD 2.0's ``normalize_answer`` (lower case, no articles, single spaces), with every
    punctuation character replaced by a space."""
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text.lower())
    return " ".join(_ARTICLES.sub(" ", text).split())


def has_gold_span(answer: str, gold_answers: Iterable[str]) -> bool:
    """True when the answer (its ``[n]`` markers removed) contains a normalised gold answer as a
    run of whole tokens."""
    text = f" {squad_normalise(_MARKERS.sub(' ', answer))} "
    for gold in gold_answers:
        span = squad_normalise(gold)
        if span and f" {span} " in text:
            return True
    return False


# ---- citations against gold evidence ---------------------------------------------------------


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(normalise(text))


def overlap(a: str, b: str) -> float:
    """Longest run of consecutive tokens shared by ``a`` and ``b``, as a share of the shorter one's
    tokens (0 when either has none)."""
    x, y = tokens(a), tokens(b)
    if not x or not y:
        return 0.0
    best = 0
    previous = [0] * (len(y) + 1)
    for i in range(1, len(x) + 1):
        current = [0] * (len(y) + 1)
        for j in range(1, len(y) + 1):
            if x[i - 1] == y[j - 1]:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best / min(len(x), len(y))


def same_article(source: str, doc: str) -> bool:
    """A citation's source path names the gold evidence's article (``doc`` is a path relative to
    the suite's article folder, e.g. ``business/314.txt``)."""
    source, doc = source.replace("\\", "/"), doc.replace("\\", "/")
    return source == doc or source.endswith("/" + doc)


def citation_is_correct(source: str, quote: str, evidence: Sequence[dict], threshold: float = OVERLAP) -> bool:
    return any(same_article(source, e["doc"]) and overlap(quote, e["quote"]) >= threshold for e in evidence)


def citation_scores(citations: Sequence[tuple[str, str]], evidence: Sequence[dict]) -> dict[str, float]:
    """For an answer to an answerable question: ``citation_correct``, the share of its citations
    (``(source, quote)`` pairs) that are correct, and ``evidence_cited``, 1 when at least one is.
    An answer that cites nothing scores 0 on both."""
    if not evidence:
        return {}
    correct = [citation_is_correct(source, quote, evidence) for source, quote in citations]
    return {"citation_correct": sum(correct) / len(correct) if correct else 0.0,
            "evidence_cited": float(any(correct))}
