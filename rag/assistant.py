"""The assistant: question in, checked and cited answer out.

    from rag import Assistant
    assistant = Assistant.open()                     # settings from rag.toml / RAG_* / keywords
    answer = assistant.ask("Who mediated the Geneva talks?")
    print(answer.text, answer.citations)

:meth:`Assistant.stream` conducts the steps it was given (:class:`rag.build.Pipeline`), in order:
analyse (:class:`rag.question.QuestionReader`: checked, cut to ``max_question_chars``, spelled
against the articles, a follow-up rewritten into a standalone question), retrieve
(:class:`rag.retrieval.Retriever`: hybrid search), decide (:meth:`rag.policy.Policy.decide`:
abstain and why, answer from an article's record, the articles differ, or answer; no model is
called before this), draft and check (:class:`rag.drafting.Drafter`: the policy's sentences
quoted, or a model's checked against the passages they cite) and compose (:class:`rag.plan.Citations`:
citations numbered in order of first use).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterable, Iterator

from index.embedding import Embedder
from index.errors import InputError
from rag.answer import Answer, Citation, StreamEvent
from rag.build import Pipeline, build_pipeline
from rag.config import Config, load_config
from rag.drafting import DIFFER_TEXT, Draft
from rag.explain import NOTHING_CHECKED, RECORD_MISSING, DecisionSummary, filter_effect, reason_of, summarize
from rag.notes import abstention_text, language_note
from rag.plan import Citations, Plan
from rag.retrieval import Filters


class Assistant:
    """Answers questions about the indexed articles. Build it with :meth:`open`."""

    def __init__(self, config: Config, pipeline: Pipeline):
        self.config = config
        self.pipeline = pipeline
        self.corpus = pipeline.corpus
        self.questions = pipeline.questions
        self.retriever = pipeline.retriever
        self.policy = pipeline.policy
        self.drafter = pipeline.drafter
        self.records = pipeline.records

    @classmethod
    def open(cls, config: Config | None = None, *, llm: str | None = None, config_file: str | Path | None = None,
             **overrides: Any) -> "Assistant":
        """Open the configured store and build the pipeline.

        ``llm`` selects the answerer (``extractive``, ``local``, ``ollama``, ``openai``); other
        keywords override settings of :class:`rag.Config` (e.g. ``store_path``, ``top_k``).
        """
        if config is None:
            config = load_config(config_file, llm=llm, **overrides)
        else:
            config = config.replace(llm=llm, **overrides)
        return build_assistant(config)

    @property
    def answerer(self):
        """What drafts an answer from passages alone (:attr:`rag.drafting.Drafter.answerer`)."""
        return self.drafter.answerer

    def ask(self, question: str, history: Iterable[Any] | None = None, filters: Filters | dict | None = None,
            top_k: int | None = None) -> Answer:
        """Answer ``question``. ``history`` holds earlier turns (strings, ``{"role", "content"}``
        messages, or ``(user, assistant)`` pairs); ``filters`` is a :class:`Filters` or a dict with
        ``sources``, ``published_after``, ``published_before``."""
        answer = None
        for event in self.stream(question, history=history, filters=filters, top_k=top_k):
            answer = event.answer or answer
        assert answer is not None
        return answer

    def stream(self, question: str, history: Iterable[Any] | None = None, filters: Filters | dict | None = None,
               top_k: int | None = None) -> Iterator[StreamEvent]:
        """Like :meth:`ask`, yielding each sentence as soon as it has been checked, then the answer."""
        started = time.perf_counter()
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 50):
            raise InputError(f"top_k must be a whole number from 1 to 50 (got {top_k!r})")
        plan = self._plan(question, history, Filters.coerce(filters), top_k or self.config.top_k, started)
        if plan.decision.kind == "record":  # who wrote an article, when, for which outlet: its record says
            recorded = self.records.answer(plan)
            if recorded is not None:
                plan.timings.setdefault("answer_ms", 0.0)
                plan.timings["total_ms"] = sum(plan.timings.values())
                answer = self._answer(plan, recorded.text, [recorded.citation], "article-record", (1, 1),
                                      confidence=1.0)
                yield StreamEvent("sentence", text=answer.text, citations=tuple(answer.citations))
                yield StreamEvent("answer", answer=answer)
                return
        if plan.decision.kind in ("abstain", "record"):
            yield StreamEvent("answer", answer=self._abstention(plan))
            return
        citations = Citations(plan.passages, {p.article_id: self.corpus.article_text(p.article_id)
                                              for p in plan.passages})
        draft = Draft(self.drafter.name)
        drafting = time.perf_counter()
        yield from self.drafter.draft(plan, citations, draft)
        plan.timings["answer_ms"] = (time.perf_counter() - drafting) * 1000
        if not citations.sentences:  # nothing survived the check
            yield StreamEvent("answer", answer=self._abstention(plan))
            return
        differ = plan.decision.kind == "differ"
        plan.timings["total_ms"] = plan.elapsed_ms()
        text = f"{DIFFER_TEXT} {citations.text()}" if differ else citations.text()
        yield StreamEvent("answer", answer=self._answer(
            plan, text, citations.citations(), draft.answerer,
            (len(citations.sentences), max(draft.seen, len(citations.sentences))), draft.drafted, differ))

    def refresh(self) -> None:
        """Call after the store changed (an ingest, an upload, a removal)."""
        self.corpus.refresh()

    def _plan(self, question: str, history: Iterable[Any] | None, filters: Filters | None, top_k: int,
              started: float) -> Plan:
        """Analyse the question, retrieve passages and let the policy decide."""
        notes: list[str] = []
        began = time.perf_counter()
        question, analysis = self.questions.read(question, history, notes)
        analysed = time.perf_counter()
        passages = [] if analysis.instruction else self.retriever.retrieve(analysis.standalone, top_k=top_k,
                                                                           filters=filters, asked=analysis.question)
        retrieved = time.perf_counter()
        damaged = self.corpus.damage_note() if passages else None
        if damaged:
            notes.append(damaged)
        decision = self.policy.decide(analysis, passages, self.corpus)
        timings = {"analyse_ms": (analysed - began) * 1000, "retrieve_ms": (retrieved - analysed) * 1000,
                   "decide_ms": (time.perf_counter() - retrieved) * 1000}
        return Plan(question, analysis, passages, decision, notes, started, filters, timings)

    def _answer(self, plan: Plan, text: str, citations: list[Citation], answerer: str, supported: tuple[int, int],
                drafted: tuple[int, int] | None = None, differ: bool = False, confidence: float | None = None) -> Answer:
        language = language_note(plan.question, plan.passages, answered=True)
        if language:
            plan.notes.append(language)
        return Answer(question=plan.question, text=text, abstained=False, citations=citations, answerer=answerer,
                      disagreement=differ, supported=supported, timings=plan.timings,
                      standalone_question=plan.standalone, notes=tuple(plan.notes), passages=plan.passages,
                      confidence=plan.confidence if confidence is None else confidence, drafted=drafted,
                      decision=self._summary(plan))

    def _abstention(self, plan: Plan) -> Answer:
        """"The articles don't say", the closest they come, and why (:attr:`Answer.explanation`:
        the policy's reason, a record that lacks what was asked, or a draft the check left empty;
        under filters, what they left out)."""
        kind = plan.decision.kind
        reason = reason_of(kind, plan.decision.reason) if kind == "abstain" else \
            RECORD_MISSING if kind == "record" else NOTHING_CHECKED
        language = language_note(plan.question, plan.passages, across=self.retriever.embedder.multilingual)
        if language:
            plan.notes.append(language)
        first = self.corpus.article_text(plan.passages[0].article_id) if plan.passages else ""
        plan.timings.setdefault("answer_ms", 0.0)
        plan.timings["total_ms"] = plan.elapsed_ms()
        return Answer(question=plan.question, text=abstention_text(plan.passages, first), abstained=True,
                      citations=[], supported=(0, 0), answerer="abstained", timings=plan.timings,
                      standalone_question=plan.standalone, notes=tuple(plan.notes), passages=plan.passages,
                      confidence=plan.confidence, decision=self._summary(plan, reason))

    def _summary(self, plan: Plan, reason: str | None = None) -> DecisionSummary:
        """What was decided and why, for the answer (:func:`rag.explain.summarize`); for an
        abstention under filters, with what they left out of the indexed articles."""
        effect = None
        if reason is not None and plan.filters is not None and not plan.filters.is_empty():
            records = self.corpus.articles().values()
            titles = {name: r.display_title() for r in records for name in (r.source, Path(r.source).name)}
            effect = filter_effect(plan.filters, records, titles)
        return summarize(plan.decision, plan.analysis, reason=reason, threshold=self.policy.threshold,
                         weights=getattr(self.policy.abstainer, "weights", None), known=self.corpus.known,
                         filters=effect, record=plan.missing)


def build_assistant(config: Config, embedder: Embedder | None = None) -> Assistant:
    """The whole question-answering pipeline over the configured store
    (:func:`rag.build.build_pipeline`); ``embedder`` reuses a loaded embedding model."""
    return Assistant(config, build_pipeline(config, embedder))
