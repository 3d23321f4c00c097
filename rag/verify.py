"""The citation check: nothing the passages don't say reaches the user.

A draft answer (from any answerer) is split into sentences and their ``[n]`` markers. Each
sentence is checked against the passages it cites. On the best-matching window of a passage (one
or two consecutive sentences), a sentence is supported when

* every number and month it states appears in the window, and every word of every named entity
  (people, places, organisations ..., found by spaCy's trained pipeline, :mod:`rag.nlp`) in the passage;
* enough of its content words (stemmed, stopwords removed) appear in the window;
* it does not negate what the window asserts, nor assert what the window negates.

A sentence that its citations don't support, or that cites nothing, is given the retrieved
passage that supports it best, if any; otherwise it is removed. Citations that add nothing are
dropped. The supporting window becomes the citation's quote, with exact article offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from index.text import fold, sentence_spans, units, words
from rag.retrieval import Passage
from rag import nlp
from rag.dates import months
from rag.lexical import NEGATIONS, content_terms, looks_like_instruction, numbers, term_set

_MARKER = re.compile(r"\s*\[(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]")
_STRAY_MARKUP = re.compile(r"^\s*(?:[-*•]\s+|\d+[.)]\s+|#+\s*|answer:\s*)", re.IGNORECASE)


@dataclass(frozen=True)
class Claim:
    """A sentence of a draft, without its markers; ``cited`` are 1-based passage numbers."""

    text: str
    cited: tuple[int, ...]


@dataclass(frozen=True)
class Support:
    """Where a passage supports a sentence: article offsets of the supporting window."""

    passage: int  # 0-based index into the passages
    start: int
    end: int
    coverage: float


@dataclass(frozen=True)
class Checked:
    """A sentence that passed, with the passages (0-based) and windows that support it."""

    text: str
    supports: tuple[Support, ...]


def split_draft(draft: str) -> list[Claim]:
    """Sentences of a draft with the ``[n]`` markers each carries (markers after the full stop
    belong to the sentence before them)."""
    draft = draft.replace("\r", "")
    claims: list[Claim] = []
    for line in (part.strip() for part in draft.split("\n")):
        if not line:
            continue
        line = _STRAY_MARKUP.sub("", line)
        for start, end in sentence_spans(line):
            piece = line[start:end]
            cited = tuple(int(n) for group in _MARKER.findall(piece) for n in re.split(r"\s*[,;]\s*", group))
            text = _MARKER.sub("", piece).strip()
            if not re.search(r"\w", text) and claims:  # a sentence of markers only
                claims[-1] = Claim(claims[-1].text, claims[-1].cited + cited)
                continue
            if re.search(r"\w", text):
                claims.append(Claim(text, cited))
    return claims


class Verifier:
    """Checks draft answers against passages (see the module docstring)."""

    def __init__(self, min_coverage: float = 0.6, min_terms: int = 2):
        self.min_coverage = min_coverage
        self.min_terms = min_terms

    def check_claim(self, claim: Claim, passages: list[Passage]) -> Checked | None:
        if looks_like_instruction(claim.text):
            return None
        cited = [n - 1 for n in dict.fromkeys(claim.cited) if 1 <= n <= len(passages)]
        supports = [s for s in (self.support(claim.text, passages[i], i) for i in cited) if s]
        if supports:
            return Checked(claim.text, tuple(supports))
        if len(cited) > 1:
            joint = self._joint_support(claim.text, [passages[i] for i in cited], cited)
            if joint:
                return Checked(claim.text, joint)
        # Cited nothing, or the wrong passages: the best retrieved passage that supports it.
        others = [s for i, p in enumerate(passages) if i not in cited
                  for s in [self.support(claim.text, p, i)] if s]
        if others:
            return Checked(claim.text, (max(others, key=lambda s: s.coverage),))
        return None

    def support(self, sentence: str, passage: Passage, index: int = 0) -> Support | None:
        """How ``passage`` supports ``sentence``, or ``None``."""
        terms = content_terms(sentence)
        if len(set(terms)) < self.min_terms:
            return None
        if not _names_in(sentence, fold(passage.text)):
            return None
        best: Support | None = None
        for start, end in _windows(passage.text):
            window = passage.text[start:end]
            if looks_like_instruction(window):
                continue  # text addressed to a model supports nothing
            if not numbers(sentence) <= numbers(window) or not months(sentence) <= months(window):
                continue
            if _negated(sentence) != _negated(_closest_sentence(sentence, passage.text, start, end)):
                continue
            window_terms = term_set(window)
            coverage = sum(t in window_terms for t in terms) / len(terms)
            if coverage >= self.min_coverage and (best is None or coverage > best.coverage):
                best = Support(index, passage.start + start, passage.start + end, coverage)
        return best

    def _joint_support(self, sentence: str, cited: list[Passage], indexes: list[int]) -> tuple[Support, ...]:
        """A sentence that combines facts from several cited passages (e.g. two articles)."""
        combined = " ".join(p.text for p in cited)
        if looks_like_instruction(combined):
            return ()
        if not _names_in(sentence, fold(combined)):
            return ()
        if not numbers(sentence) <= numbers(combined) or not months(sentence) <= months(combined):
            return ()
        terms = content_terms(sentence)
        if len(set(terms)) < self.min_terms or _negated(sentence) != _negated(combined):
            return ()
        all_terms = term_set(combined)
        if sum(t in all_terms for t in terms) / len(terms) < self.min_coverage:
            return ()
        supports = []
        sentence_terms = set(terms)
        for passage, index in zip(cited, indexes):
            windows = list(_windows(passage.text))
            scored = [(len(sentence_terms & term_set(passage.text[s:e])), s, e) for s, e in windows]
            overlap, start, end = max(scored)
            if overlap:
                supports.append(Support(index, passage.start + start, passage.start + end,
                                        overlap / len(sentence_terms)))
        return tuple(supports)


@lru_cache(maxsize=4096)
def _windows(text: str) -> tuple[tuple[int, int], ...]:
    """One- and two-sentence windows of a passage (prose only), as offsets into it."""
    spans = [(u.start, u.end) for u in units(text) if not u.heading] or [(0, len(text))]
    windows = list(spans)
    windows += [(a[0], b[1]) for a, b in zip(spans, spans[1:])]
    return tuple(windows)


def _closest_sentence(sentence: str, text: str, start: int, end: int) -> str:
    """The sentence of ``text[start:end]`` that shares the most content words with ``sentence``
    (negation is judged there, not on a neighbouring sentence)."""
    terms = term_set(sentence)
    inside = [text[s:e] for s, e in _windows(text) if start <= s and e <= end and (s, e) != (start, end)]
    if not inside:
        return text[start:end]
    return max(inside, key=lambda piece: len(terms & term_set(piece)))


def _names_in(sentence: str, folded_text: str) -> bool:
    """Every word of every named entity of ``sentence`` (people, places, organisations ..., as the
    NLP pipeline finds them) occurs in ``folded_text``."""
    for name, _ in nlp.named(sentence):
        for word in words(name):
            if len(word) > 1 and word not in ("the", "of") and not re.search(rf"\b{re.escape(word)}\b", folded_text):
                return False
    return True


def _negated(text: str) -> bool:
    tokens = words(text)
    return any(t in NEGATIONS or t.endswith("n't") for t in tokens)
