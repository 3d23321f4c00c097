"""Answers from an article's record: who wrote the article a question describes, when it was
published, by which outlet. The policy decides that a question asks this
(``Decision.kind == "record"``); the answer is one sentence, cited to the line of the article's
header that states the value (else its title line)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from index.cleaning import paired_quotes
from rag.answer import Citation
from rag.corpus import Corpus
from rag.dates import human_date
from rag.plan import Plan
from rag.retrieval import Passage


@dataclass(frozen=True)
class Recorded:
    """The record's answer: one sentence, and the header line it cites."""

    text: str
    citation: Citation


class RecordAnswerer:
    """Answers questions about an article's record (see the module docstring). ``embed`` is the
    retriever's model: it finds the article whose title the question describes."""

    def __init__(self, corpus: Corpus, embed: Callable[[list[str]], np.ndarray] | None):
        self.corpus = corpus
        self.embed = embed

    def answer(self, plan: Plan) -> Recorded | None:
        """The record's answer, or None when the record lacks the value (``plan.missing`` then
        names the article and the field, for the abstention to say)."""
        kind = plan.analysis.about_article
        passage = self._article_asked_about(plan)
        record = self.corpus.articles().get(passage.article_id)
        value = getattr(record, kind, None) if record is not None else None
        if not value:
            plan.missing = (passage.title, kind)
            return None
        text = self.corpus.article_text(passage.article_id)
        shown = human_date(value) if kind == "published" else value
        title = record.display_title()
        # The header line that states it; else the line with the title; else the first line.
        start, end = _header_line(text, [shown, value]) or _header_line(text, [title]) or _first_line(text)
        named = paired_quotes(title)
        sentence = {"author": f"“{named}” was written by {value}.",
                    "published": f"“{named}” was published on {shown}.",
                    "outlet": f"“{named}” was published by {value}."}[kind]
        citation = Citation(n=1, source=passage.source, title=passage.title, published=passage.published,
                            quote=text[start:end], start=start, end=end, score=1.0, outlet=passage.outlet,
                            passage=passage, url=passage.url)
        return Recorded(f"{sentence} [1]", citation)

    def _article_asked_about(self, plan: Plan) -> Passage:
        """The retrieved article the question describes: the best passage of the article whose
        title is closest (embedding cosine) to the question, retrieval rank breaking ties."""
        vector = plan.analysis.vector
        if vector is None or self.embed is None:
            return plan.passages[0]
        firsts = list({p.article_id: p for p in reversed(plan.passages)}.values())[::-1]
        titles = self.embed([p.title for p in firsts])
        scores = [float(t @ vector) + p.similarity for p, t in zip(firsts, titles)]
        return firsts[max(range(len(firsts)), key=lambda i: (scores[i], -i))]


def _header_line(text: str, values: list[str]) -> tuple[int, int] | None:
    """Offsets of the first line of the article's header (its first lines) that states one of
    ``values``, or None."""
    offset = 0
    for line in text.split("\n")[:15]:
        if line.strip() and any(v and v in line for v in values):
            return offset, offset + len(line)
        offset += len(line) + 1
    return None


def _first_line(text: str) -> tuple[int, int]:
    """Offsets of the first line that is not blank (the title line)."""
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    start = sum(len(line) + 1 for line in lines[:first])
    return start, start + len(lines[first])
