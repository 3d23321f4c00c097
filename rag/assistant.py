"""The assistant: question in, checked and cited answer out.

    from rag import Assistant
    assistant = Assistant.open()                     # settings from rag.toml / RAG_* / keywords
    answer = assistant.ask("Who mediated the Geneva talks?")
    print(answer.text, answer.citations)

The pipeline, in order (:meth:`Assistant.stream`): analyse (the question is validated and cut
to ``max_question_chars``, a follow-up is rewritten into a standalone question), retrieve (hybrid
search), decide (:meth:`rag.policy.Policy.decide`: abstain and why, answer from an article's
record, the articles differ, or answer; no LLM is called before this), draft (the policy's chosen
sentences, or a model's text), check (a model's sentences against the passages they cite; the
policy's are checked by construction; if none survives, the policy's sentences stand in) and
compose (citations numbered in order of first use).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator

from index.chunking import units
from index.cleaning import paired_quotes, truncate_words
from index.embedding import Embedder
from index.errors import InputError, ModelError
from rag import nlp
from rag.analysis import Analyser, Analysis
from rag.answer import Answer, Citation, StreamEvent
from rag.answerers import Answerer, ExtractiveAnswerer
from rag.build import build_parts
from rag.config import Config, load_config
from rag.dates import human_date
from rag.explain import NOTHING_CHECKED, RECORD_MISSING, DecisionSummary, filter_effect, reason_of, summarize
from rag.policy import Candidate, Decision, Policy
from rag.retrieval import Filters, Passage, Retriever
from rag.verify import Checked, Claim, Support, Verifier, split_draft

ABSTAIN_TEXT = "The articles don't say."
DIFFER_TEXT = "The articles differ on this."
MAX_DRAFT_SENTENCES = 4
#: Least seconds between two updates of the unchecked draft in the stream.
DRAFT_EVERY = 0.25
_REFUSAL = re.compile(r"NOT\s+IN\s+(?:THE\s+)?ARTICLES", re.I)


@dataclass
class _Plan:
    """The question as read, what was retrieved and what the policy decided, before any drafting."""

    question: str
    analysis: Analysis
    passages: list[Passage]
    decision: Decision
    notes: list[str]
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


@dataclass
class _Drafting:
    """How the answer was drafted, as it goes: the answerer's name as the answer reports it,
    the sentences checked so far, and a model's own sentences (kept, written)."""

    answerer: str
    seen: int = 0
    drafted: tuple[int, int] | None = None


class _Citations:
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
                passage=passage,
            ))
        return cited


class Assistant:
    """Answers questions about the indexed articles. Build it with :meth:`open`."""

    def __init__(self, config: Config, retriever: Retriever, answerer: Answerer, verifier: Verifier | None = None,
                 extractive: ExtractiveAnswerer | None = None, policy: Policy | None = None,
                 analyser: Analyser | None = None):
        self.config = config
        self.retriever = retriever
        self.answerer = answerer
        self.verifier = verifier or Verifier()
        self.extractive = extractive or (answerer if isinstance(answerer, ExtractiveAnswerer)
                                         else ExtractiveAnswerer())
        self.policy = policy or self.extractive.policy
        self.analyser = analyser or self.extractive.analyser

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

    # ---- public API ----------------------------------------------------------------------------

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
        plan = self._plan(question, history, Filters.coerce(filters), top_k or self.config.top_k)
        if plan.decision.kind == "record":  # who wrote an article, when, for which outlet: its record says
            recorded = self._about_article(plan)
            if recorded is not None:
                yield StreamEvent("sentence", text=recorded.text, citations=tuple(recorded.citations))
                yield StreamEvent("answer", answer=recorded)
                return
        if plan.decision.kind in ("abstain", "record"):
            yield StreamEvent("answer", answer=self._abstention(plan, started))
            return
        composer = _Citations(plan.passages, self._texts(plan.passages))
        drafting = _Drafting(self.answerer.name)
        generated = time.perf_counter()
        yield from self._draft_and_check(plan, composer, drafting, started)
        plan.timings["answer_ms"] = (time.perf_counter() - generated) * 1000
        if not composer.sentences:  # nothing survived the check
            yield StreamEvent("answer", answer=self._abstention(plan, started))
            return
        text = " ".join(sentence for sentence, _ in composer.sentences)
        differ = plan.decision.kind == "differ"
        plan.timings["total_ms"] = (time.perf_counter() - started) * 1000
        yield StreamEvent("answer", answer=Answer(
            question=plan.question, text=f"{DIFFER_TEXT} {text}" if differ else text, abstained=False,
            citations=composer.citations(), answerer=drafting.answerer, disagreement=differ,
            supported=(len(composer.sentences), max(drafting.seen, len(composer.sentences))),
            timings=plan.timings, standalone_question=plan.standalone, notes=tuple(plan.notes),
            passages=plan.passages, confidence=plan.confidence, drafted=drafting.drafted,
            decision=self._summary(plan),
        ))

    def refresh(self) -> None:
        """Call after the store changed (an ingest, an upload, a removal)."""
        self.retriever.refresh()

    # ---- steps ---------------------------------------------------------------------------------

    @staticmethod
    def _first_sentence(plan: _Plan, started: float) -> None:
        """Record when the first checked sentence was ready (what a user waits for)."""
        plan.timings.setdefault("first_sentence_ms", (time.perf_counter() - started) * 1000)

    def _plan(self, question: str, history: Iterable[Any] | None, filters: Filters | None, top_k: int) -> _Plan:
        """Analyse the question, retrieve passages and let the policy decide."""
        notes: list[str] = []
        question = self._validate(question, notes)
        began = time.perf_counter()
        read, corrections = self.retriever.speller().correct(question)
        if corrections:
            notes.append("read " + ", ".join(f"‘{c.original}’ as ‘{c.corrected}’" for c in corrections))
        analysis = self.analyser.analyse(read, history)
        analysed = time.perf_counter()
        passages = [] if analysis.instruction else self.retriever.retrieve(analysis.standalone, top_k=top_k,
                                                                           filters=filters)
        retrieved = time.perf_counter()
        store = self.retriever.store
        if passages and store.damage():
            notes.append("the store's vector index is damaged, so this answer comes from keyword search only: "
                         f"rebuild the index with `{store.command('doctor --repair')}`")
        decision = self.policy.decide(analysis, passages, self.retriever)
        timings = {"analyse_ms": (analysed - began) * 1000, "retrieve_ms": (retrieved - analysed) * 1000,
                   "decide_ms": (time.perf_counter() - retrieved) * 1000}
        return _Plan(question, analysis, passages, decision, notes, filters, timings)

    def _draft_and_check(self, plan: _Plan, composer: _Citations, drafting: _Drafting,
                         started: float) -> Iterator[StreamEvent]:
        """Draft the answer the policy decided on and check it, yielding each sentence that
        survives (and, from a model, progress and the unchecked draft). The policy's own
        sentences are checked by construction (:meth:`_quoted`); a model's go through the
        verifier, and when none survives (or the model fails) the policy's stand in. A model given
        up on is said at once, as progress (and an empty draft drops its unchecked text); a note
        on the answer says what the check left out of the model's text, and why."""

        def said(checked: Checked) -> StreamEvent:  # a sentence, with the sources cited so far
            self._first_sentence(plan, started)
            return StreamEvent("sentence", text=composer.add(checked), citations=tuple(composer.citations()))

        if plan.decision.kind == "differ":
            yield StreamEvent("sentence", text=DIFFER_TEXT)
            for checked, drafting.seen in self._quoted(plan.decision.disagreement, plan):
                yield said(checked)
            drafting.answerer = f"{self.answerer.name}+sources-differ"
            return
        if self.answerer is self.extractive:
            for checked, drafting.seen in self._quoted(plan.decision.chosen, plan):
                yield said(checked)
            return
        count, model = len(plan.passages), self.answerer.name
        yield _progress(f"The {model} model is reading {count} passage{'s' if count != 1 else ''}", started)
        read = self._chosen_only(plan) if self.config.llm_reads_chosen() else plan.passages
        drafting.drafted, failure = (0, 0), None
        asked = time.perf_counter()
        try:
            for step in self._checked_sentences(self.answerer.stream(plan.standalone, read), plan, started):
                if isinstance(step, StreamEvent):  # the draft, not checked yet, or the sentence being checked
                    yield step
                    continue
                checked, drafting.seen = step
                drafting.drafted = (drafting.drafted[0] + (checked is not None), drafting.seen)
                if checked is not None:
                    yield said(checked)
        except ModelError as error:  # the model died, hung or is unreachable: say so at once, answer anyway
            failure = str(error)
            kept = len(composer.sentences)
            then = f"keeping the {kept} sentence{'s' if kept != 1 else ''} checked so far" if kept else \
                "showing the quoted answer"
            yield StreamEvent("draft", text="")  # the unchecked rest is given up on with the model
            yield _progress(f"The {model} model failed after {time.perf_counter() - asked:.0f} s: {then}", started)
        if composer.sentences:
            dropped = _dropped_note(model, *drafting.drafted)
            if dropped:
                plan.notes.append(dropped)
            if failure:
                plan.notes.append(f"the answer was cut short: {failure}")
            return
        if not failure:
            yield StreamEvent("draft", text="")
            yield _progress(f"The {model} model's sentences were not supported by the articles: "
                            "showing the quoted answer", started)
        plan.notes.append(f"{failure}; so this is the quoted answer" if failure else
                          f"the {model} model's sentences were not supported by the articles, "
                          "so this is the quoted answer")
        drafting.answerer = f"{model}->extractive"
        for checked, _ in self._quoted(plan.decision.chosen, plan):
            yield said(checked)

    def _about_article(self, plan: _Plan) -> Answer | None:
        """Who wrote the best-matching article, when it was published or by which outlet: from its
        record, cited to the line of its header that states it (else its title line)."""
        kind = plan.analysis.about_article
        passage = self._article_asked_about(plan)
        record = self.retriever.store.articles().get(passage.article_id)
        value = getattr(record, kind, None) if record is not None else None
        if not value:
            plan.missing = (passage.title, kind)
            return None
        text = self.retriever.article_text(passage.article_id)
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
                            passage=passage)
        plan.timings.setdefault("answer_ms", 0.0)
        plan.timings["total_ms"] = sum(plan.timings.values())
        return Answer(question=plan.question, text=f"{sentence} [1]", abstained=False, citations=[citation],
                      supported=(1, 1), answerer="article-record", timings=plan.timings,
                      standalone_question=plan.standalone, notes=tuple(plan.notes), passages=plan.passages,
                      confidence=1.0, decision=self._summary(plan))

    def _article_asked_about(self, plan: _Plan) -> Passage:
        """The retrieved article the question describes: the best passage of the article whose
        title is closest (embedding cosine) to the question, retrieval rank breaking ties."""
        vector = plan.analysis.vector
        embed = self.analyser.embed
        if vector is None or embed is None:
            return plan.passages[0]
        firsts = list({p.article_id: p for p in reversed(plan.passages)}.values())[::-1]
        titles = embed([p.title for p in firsts])
        scores = [float(t @ vector) + p.similarity for p, t in zip(firsts, titles)]
        return firsts[max(range(len(firsts)), key=lambda i: (scores[i], -i))]

    def _quoted(self, chosen: list[Candidate], plan: _Plan) -> Iterator[tuple[Checked, int]]:
        """The policy's chosen sentences (or answering words), checked by construction: each is the
        text at its own offsets in the passage it cites, so nothing is split or searched again."""
        for seen, candidate in enumerate(chosen, 1):
            passage = plan.passages[candidate.passage]
            support = Support(candidate.passage, passage.start + candidate.start, passage.start + candidate.end, 1.0)
            yield Checked(self.extractive.sentence(candidate), (support,)), seen

    def _validate(self, question: str, notes: list[str]) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InputError("empty question: type a question about the articles")
        question = " ".join(question.split())
        limit = self.config.max_question_chars
        if len(question) > limit:
            cut = truncate_words(question, limit)
            notes.append(f"the question was {len(question):,} characters; only its first {len(cut):,} were used "
                         f"(max_question_chars = {limit})")
            question = cut
        return question

    @staticmethod
    def _chosen_only(plan: _Plan) -> list[Passage]:
        """The retrieved passages cut to the sentences the answer policy chose (in their order;
        a passage with none is left empty), for a model given the smaller task of writing the
        answer from those alone. Its citations still number the passages."""
        chosen: dict[int, list[str]] = {}
        for candidate in plan.decision.chosen:
            if not candidate.lead:  # the reader's span is part of a chosen sentence
                text = plan.passages[candidate.passage].text[candidate.start:candidate.end]
                chosen.setdefault(candidate.passage, []).append(text)
        return [replace(p, text=" ".join(chosen.get(i, []))) for i, p in enumerate(plan.passages)]

    def _checked_sentences(self, draft: Iterable[str], plan: _Plan,
                           started: float) -> Iterator[tuple[Checked | None, int] | StreamEvent]:
        """Check the draft sentence by sentence as it streams; yields (checked or None, count so
        far) for each sentence, a ``"progress"`` event before each check ("Checking sentence 2 of
        the draft"), and between them the text written but not checked yet as a ``"draft"`` event
        (at most every :data:`DRAFT_EVERY` seconds), for a page to show as it is written."""
        buffer, done, seen, shown = "", 0, 0, 0.0

        def checking(claim: Claim, number: int) -> Iterator[tuple[Checked | None, int] | StreamEvent]:
            yield _progress(f"Checking sentence {number} of the draft against its sources", started)
            yield self.verifier.check_claim(claim, plan.passages), number

        for piece in draft:
            buffer += piece
            if _REFUSAL.search(buffer):
                return
            claims = split_draft(buffer)
            # All but the last sentence are complete (the last may still be growing).
            for claim in claims[done:-1]:
                seen += 1
                yield from checking(claim, seen)
            done = max(done, len(claims) - 1)
            if seen >= MAX_DRAFT_SENTENCES:  # a short answer was asked for; small models ramble on
                return
            if time.perf_counter() - shown >= DRAFT_EVERY and claims[done:]:
                shown = time.perf_counter()
                yield StreamEvent("draft", text=" ".join(claim.text for claim in claims[done:]))
        for claim in split_draft(buffer)[done:]:
            if _REFUSAL.search(claim.text):
                continue
            seen += 1
            yield from checking(claim, seen)

    def _abstention(self, plan: _Plan, started: float) -> Answer:
        """"The articles don't say", the closest they come, and why (:attr:`Answer.explanation`:
        the policy's reason, a record that lacks what was asked, or a draft the check left empty;
        under filters, what they left out)."""
        kind = plan.decision.kind
        reason = reason_of(kind, plan.decision.reason) if kind == "abstain" else \
            RECORD_MISSING if kind == "record" else NOTHING_CHECKED
        language = _language_note(plan.question, plan.passages)
        if language:
            plan.notes.append(language)
        text = ABSTAIN_TEXT
        if plan.passages:
            text += f" The closest they cover is {self._closest(plan.passages[0])}."
        plan.timings.setdefault("answer_ms", 0.0)
        plan.timings["total_ms"] = (time.perf_counter() - started) * 1000
        return Answer(question=plan.question, text=text, abstained=True, citations=[], supported=(0, 0),
                      answerer="abstained", timings=plan.timings, standalone_question=plan.standalone,
                      notes=tuple(plan.notes), passages=plan.passages, confidence=plan.confidence,
                      decision=self._summary(plan, reason))

    def _summary(self, plan: _Plan, reason: str | None = None) -> DecisionSummary:
        """What was decided and why, for the answer (:func:`rag.explain.summarize`); for an
        abstention under filters, with what they left out of the indexed articles."""
        effect = None
        if reason is not None and plan.filters is not None and not plan.filters.is_empty():
            records = self.retriever.store.articles().values()
            titles = {name: r.display_title() for r in records for name in (r.source, Path(r.source).name)}
            effect = filter_effect(plan.filters, records, titles)
        return summarize(plan.decision, plan.analysis, reason=reason, threshold=self.policy.threshold,
                         weights=getattr(self.policy.abstainer, "weights", None), known=self.retriever.known,
                         filters=effect, record=plan.missing)

    def _closest(self, passage: Passage) -> str:
        """Where the closest passage is, in words: its section's heading (if any) in its article's
        title, each quoted with its own quote marks paired (see :func:`paired_quotes`)."""
        section = _section(self._texts([passage]).get(passage.article_id, ""), passage.start)
        where = f"“{paired_quotes(passage.title)}”"
        return f"“{paired_quotes(section)}” in {where}" if section and section != passage.title else where

    def _texts(self, passages: list[Passage]) -> dict[str, str]:
        return {p.article_id: self.retriever.article_text(p.article_id) for p in passages}


def _progress(text: str, started: float) -> StreamEvent:
    """A ``"progress"`` event: what is happening, and the seconds since the question was asked."""
    return StreamEvent("progress", text=text, seconds=round(time.perf_counter() - started, 1))


def _section(text: str, offset: int) -> str:
    """The heading a passage starting at ``offset`` sits under, if any."""
    heading = ""
    for unit in units(text):
        if unit.start > offset:
            break
        if unit.heading:
            heading = text[unit.start:unit.end]
    return heading


def _language_note(question: str, passages: list[Passage]) -> str | None:
    """Why a question found nothing, when it is written in a language the passages it reached
    are not (the models here are English-only)."""
    asked = nlp.language(question)
    if asked is None or asked == "en" or (passages and nlp.language(" ".join(p.text for p in passages[:3])) == asked):
        return None
    return (f"the question seems to be in {nlp.language_name(asked)}, but the articles searched and the models "
            "here are English: ask in English")


def _dropped_note(model: str, kept: int, written: int) -> str | None:
    """What the check left out of a model's answer when it kept some of its sentences, or None
    when it kept them all (when it kept none, the quoted answer stands in with its own note)."""
    left_out = written - kept
    if not kept or left_out <= 0:
        return None
    was = "was" if left_out == 1 else "were"
    return f"{left_out} of the {model} model's {written} sentences {was} not supported by the articles and {was} " \
        "left out"


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


def build_assistant(config: Config, embedder: Embedder | None = None) -> Assistant:
    """The whole question-answering pipeline over the configured store (its parts from
    :func:`rag.build.build_parts`); ``embedder`` reuses a loaded embedding model."""
    parts = build_parts(config, embedder)
    return Assistant(config, parts.retriever, parts.answerer, extractive=parts.extractive, policy=parts.policy,
                     analyser=parts.analyser)
