"""What the assistant returns: an :class:`Answer` whose sentences cite :class:`Citation` s."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.explain import DecisionSummary, explain
from rag.retrieval import Passage


@dataclass(frozen=True)
class Citation:
    """A cited passage: ``quote`` is the supporting span, ``article_text[start:end] == quote``.
    ``url`` is the address of the original article where its web page states one, else None."""

    n: int
    source: str
    title: str
    published: str | None
    quote: str
    start: int
    end: int
    score: float
    outlet: str | None = None
    passage: Passage | None = field(default=None, repr=False, compare=False)
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The citation as every client gets it (``rag ask --json``, ``rag serve``, MCP): the source is
        the file name only, never a server path."""
        return {"n": self.n, "title": self.title, "source": Path(self.source).name, "published": self.published,
                "outlet": self.outlet, "url": self.url, "quote": self.quote, "start": self.start, "end": self.end,
                "score": round(self.score, 4)}


@dataclass(frozen=True)
class Answer:
    """An answer whose every sentence was checked against the passages it cites.

    ``text`` carries ``[n]`` markers that refer to ``citations[n-1]``. ``abstained`` is true when
    the articles don't cover the question. ``supported`` counts the sentences that passed the check
    against all the sentences the answerer wrote. ``disagreement`` is true when the cited articles
    answer differently and the answer shows each version. ``confidence`` is the answer policy's
    calibrated chance that the articles answer the question (below ``abstain_threshold`` it abstains).
    ``decision`` says why it answered or abstained (:class:`rag.explain.DecisionSummary`), and
    ``explanation`` says it in words. Publication dates travel on each citation (``published``),
    not in ``text``.
    """

    question: str
    text: str
    abstained: bool
    citations: list[Citation]
    supported: tuple[int, int]
    answerer: str
    timings: dict[str, float]
    standalone_question: str = ""
    disagreement: bool = False
    notes: tuple[str, ...] = ()
    passages: list[Passage] = field(default_factory=list, repr=False, compare=False)
    confidence: float | None = None  # the policy's calibrated chance that the articles answer the question
    #: A generative answerer's own sentences: (kept after the check, written); None when none wrote.
    drafted: tuple[int, int] | None = None
    decision: DecisionSummary | None = None

    @property
    def explanation(self) -> str:
        """Why it answered or abstained, in words (:func:`rag.explain.explain`; "" without a decision)."""
        return explain(self.decision)

    def to_dict(self) -> dict[str, Any]:
        """The answer as data (``rag ask --json``; docs/cli.md's "Asking questions" documents it)."""
        decision = self.decision
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "reason": decision.reason if decision else None,
            "explanation": self.explanation,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "threshold": decision.threshold if decision else None,
            "factors": [f.to_dict() for f in decision.factors] if decision else [],
            "notes": list(self.notes),
            "citations": [c.to_dict() for c in self.citations],
            "supported": {"sentences": self.supported[0], "total": self.supported[1]},
            "answerer": self.answerer,
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
            "drafted": None if self.drafted is None else {"kept": self.drafted[0], "written": self.drafted[1]},
        }


@dataclass(frozen=True)
class StreamEvent:
    """One event of :meth:`rag.Assistant.stream`.

    ``kind`` is ``"sentence"`` (a checked sentence, ``text`` with its ``[n]`` markers, and
    ``citations`` all the passages cited so far, so a page can show sources while the answer
    streams), ``"answer"`` (the last event, ``answer`` the complete :class:`Answer`), and, from a
    generative answerer only, ``"progress"`` (``text`` says what is happening: "The local model is
    reading 5 passages", "Checking sentence 2 of the draft against its sources", "The local model
    failed after 12 s: showing the quoted answer"; ``seconds`` since the question was asked) and
    ``"draft"`` (``text`` is what the model has written after the last checked sentence, not
    checked yet: show it as such, and drop it when the next sentence or the answer comes, or when
    a draft's ``text`` is empty: the model was given up on).
    """

    kind: str
    text: str = ""
    answer: Answer | None = None
    citations: tuple[Citation, ...] = ()
    seconds: float | None = None
