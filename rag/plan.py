"""An answer in the making: what the assistant's steps pass on to the next (:class:`Plan`), and
the checked sentences with their citations numbered in order of first use (:class:`Citations`,
the compose step)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rag.analysis import Analysis
from rag.answer import Citation, StreamEvent
from rag.policy import Decision
from rag.retrieval import Filters, Passage
from rag.verify import Checked, Support


@dataclass
class Plan:
    """The question as read, what was retrieved and what the policy decided, before any drafting;
    then what drafting adds (the notes, the timings)."""

    question: str
    analysis: Analysis
    passages: list[Passage]
    decision: Decision
    notes: list[str]
    started: float  # time.perf_counter() when the question was asked
    filters: Filters | None = None
    timings: dict[str, float] = field(default_factory=dict)
    #: A question about an article's record that the record cannot answer: (the title, the field).
    missing: tuple[str, str] | None = None

    @property
    def standalone(self) -> str:
        return self.analysis.standalone

    @property
    def confidence(self) -> float | None:
        return self.decision.confidence

    def progress(self, text: str) -> StreamEvent:
        """A ``"progress"`` event: what is happening, and the seconds since the question was asked."""
        return StreamEvent("progress", text=text, seconds=round(self.elapsed_ms() / 1000, 1))

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


class Citations:
    """Collects the checked sentences of an answer and numbers their citations in order of first
    use (not to be confused with the policy's :class:`rag.policy.Composer`, which chooses them)."""

    def __init__(self, passages: list[Passage], article_text: dict[str, str]):
        self.passages = passages
        self.article_text = article_text  # the cited articles' text, by id (quotes are cut from it)
        self.sentences: list[tuple[str, list[int]]] = []
        self.windows: dict[int, list[Support]] = {}
        self.order: list[int] = []

    def add(self, checked: Checked) -> str:
        numbers = []
        for support in checked.supports:
            if support.passage not in self.windows:
                self.windows[support.passage] = []
                self.order.append(support.passage)
            self.windows[support.passage].append(support)
            numbers.append(self.order.index(support.passage) + 1)
        numbers = sorted(set(numbers))
        text = f"{checked.text} " + "".join(f"[{n}]" for n in numbers)
        self.sentences.append((text, numbers))
        return text

    def text(self) -> str:
        return " ".join(sentence for sentence, _ in self.sentences)

    def citations(self) -> list[Citation]:
        cited = []
        for n, index in enumerate(self.order, 1):
            passage = self.passages[index]
            windows = self.windows[index]
            start, end = min(w.start for w in windows), max(w.end for w in windows)
            text = self.article_text.get(passage.article_id)
            quote = text[start:end] if text else passage.text[start - passage.start:end - passage.start]
            cited.append(Citation(
                n=n, source=passage.source, title=passage.title, published=passage.published, quote=quote,
                start=start, end=end, score=max(w.coverage for w in windows), outlet=passage.outlet,
                passage=passage, url=passage.url,
            ))
        return cited
