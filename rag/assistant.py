"""The assistant: question in, checked and cited answer out.

    from rag import Assistant
    assistant = Assistant.open()                     # settings from rag.toml / RAG_* / keywords
    answer = assistant.ask("Who mediated the Geneva talks?")
    print(answer.text, answer.citations)

The pipeline, in order: the question is validated and cut to ``max_question_chars``; a follow-up
is rewritten into a standalone question; hybrid retrieval finds passages; if nothing retrieved
supports an answer the assistant abstains (and calls no LLM); if the articles answer differently,
each version is shown with its citation; otherwise the answerer drafts and every sentence is
checked against the passages it cites (unsupported ones removed; if none is left, the extractive
answerer's checked sentences are used).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Iterator

from index.chunking import units
from index.errors import InputError, ModelError
from rag.answer import Answer, Citation, StreamEvent
from rag.answerers import Answerer, Candidate, ExtractiveAnswerer, answer_entities, answer_type
from rag.config import Config, load_config
from rag.conversation import standalone
from rag.retrieval import Filters, Passage, Retriever, date_hints
from rag.text import QUESTION_FILLER, content_terms, fold, latin_share, month_years, names, numbers, stem_in
from rag.verify import Checked, Claim, Support, Verifier, split_draft

ABSTAIN_TEXT = "The articles don't say."
DIFFER_TEXT = "The articles differ on this."
_ASKED_FOR = re.compile(r"\b(?:which|what)\s+(?:\w+\s+)?(\w+)", re.I)
MAX_DRAFT_SENTENCES = 4
CONFLICT_COVERAGE = 0.8  # the least question coverage of each side of a disagreement
_REFUSAL = re.compile(r"NOT\s+IN\s+(?:THE\s+)?ARTICLES", re.I)


@dataclass
class _Plan:
    """What retrieval decided, before any drafting."""

    question: str
    standalone: str
    passages: list[Passage]
    candidates: list[Candidate]
    notes: list[str]
    abstain: bool = False
    conflict: list[Candidate] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


class _Composer:
    """Collects checked sentences and numbers their citations in order of first use."""

    def __init__(self, passages: list[Passage]):
        self.passages = passages
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

    def citations(self, article_text: dict[str, str]) -> list[Citation]:
        cited = []
        for n, index in enumerate(self.order, 1):
            passage = self.passages[index]
            windows = self.windows[index]
            start, end = min(w.start for w in windows), max(w.end for w in windows)
            text = article_text.get(passage.article_id)
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
                 extractive: ExtractiveAnswerer | None = None):
        self.config = config
        self.retriever = retriever
        self.answerer = answerer
        self.verifier = verifier or Verifier()
        self.extractive = extractive or (answerer if isinstance(answerer, ExtractiveAnswerer)
                                         else ExtractiveAnswerer())

    @classmethod
    def open(cls, config: Config | None = None, *, llm: str | None = None, config_file: str | Path | None = None,
             **overrides: Any) -> "Assistant":
        """Open the configured store and build the pipeline.

        ``llm`` selects the answerer (``extractive``, ``local``, ``ollama``, ``openai``); other
        keywords override settings of :class:`rag.Config` (e.g. ``store_path``, ``top_k``).
        """
        from rag.build import build_assistant

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
        if plan.abstain:
            yield StreamEvent("answer", answer=self._abstention(plan, started))
            return
        composer = _Composer(plan.passages)
        total = 0
        answerer_name = self.answerer.name
        disagreement = bool(plan.conflict)
        generated = time.perf_counter()
        if disagreement:
            yield StreamEvent("sentence", text=DIFFER_TEXT)
            for candidate in plan.conflict:
                total += 1
                checked = self.verifier.check_claim(Claim(candidate.text, (candidate.passage + 1,)), plan.passages)
                if checked:
                    self._first_sentence(plan, started)
                    yield StreamEvent("sentence", text=composer.add(checked))
            answerer_name = f"{self.answerer.name}+sources-differ"
        else:
            failure = None
            try:
                for checked, seen in self._checked_sentences(self.answerer, plan):
                    total = seen
                    if checked is not None:
                        self._first_sentence(plan, started)
                        yield StreamEvent("sentence", text=composer.add(checked))
            except ModelError as error:  # the model died, hung or is unreachable: say so, answer anyway
                failure = str(error)
            if failure and composer.sentences:
                plan.notes.append(f"the answer was cut short: {failure}")
            if not composer.sentences:  # nothing the answerer wrote survived: the extractive answer
                if self.answerer is not self.extractive:
                    plan.notes.append(f"{failure}; showing the extractive answer" if failure else
                                      f"no sentence of the {self.answerer.name} answer was supported by the "
                                      "passages; showing the extractive answer")
                    answerer_name = f"{self.answerer.name}->extractive"
                for checked, _ in self._checked_sentences(self.extractive, plan):
                    if checked is not None:
                        self._first_sentence(plan, started)
                        yield StreamEvent("sentence", text=composer.add(checked))
        plan.timings["answer_ms"] = (time.perf_counter() - generated) * 1000
        if not composer.sentences:
            yield StreamEvent("answer", answer=self._abstention(plan, started))
            return
        citations = composer.citations(self._texts(plan.passages))
        text = " ".join(sentence for sentence, _ in composer.sentences)
        if disagreement:
            text = f"{DIFFER_TEXT} {text}"
        text += _publication_note(citations)
        plan.timings["total_ms"] = (time.perf_counter() - started) * 1000
        yield StreamEvent("answer", answer=Answer(
            question=plan.question, text=text, abstained=False, citations=citations,
            supported=(len(composer.sentences), max(total, len(composer.sentences))), answerer=answerer_name,
            timings=plan.timings, standalone_question=plan.standalone, disagreement=disagreement,
            notes=tuple(plan.notes), passages=plan.passages,
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
        plan = self._decide(question, history, filters, top_k)
        if plan.abstain and latin_share(plan.question) < 0.5:
            plan.notes.append("the question is written mostly in a non-Latin script, but the embedding model and "
                              "the analysis of answers are English-only: ask in English")
        return plan

    def _decide(self, question: str, history: Iterable[Any] | None, filters: Filters | None, top_k: int) -> _Plan:
        notes: list[str] = []
        question = self._validate(question, notes)
        query = standalone(question, history)
        began = time.perf_counter()
        passages = self.retriever.retrieve(query, top_k=top_k, filters=filters)
        retrieved = time.perf_counter()
        plan = _Plan(question, query, passages, [], notes, timings={"retrieve_ms": (retrieved - began) * 1000})
        if not passages:
            plan.abstain = True
            if filters is not None and not filters.is_empty():
                dated = " (articles that state no publication date are left out by a date)" \
                    if filters.published_after or filters.published_before else ""
                notes.append(f"no indexed passage matches the filters ({filters.describe()}){dated}: check the "
                             "article names (file name or path, as listed by the page's Articles tab) and dates")
            return plan
        plan.candidates = self.extractive.candidates(query, passages, asked=question)
        plan.abstain = self._should_abstain(question, plan.candidates, passages)
        if not plan.abstain:
            plan.conflict = self._conflict(plan, filters)
        return plan

    def _validate(self, question: str, notes: list[str]) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InputError("empty question: type a question about the articles")
        question = " ".join(question.split())
        limit = self.config.max_question_chars
        if len(question) > limit:
            cut = question[:limit]
            cut = cut[: cut.rfind(" ")] if " " in cut[limit // 2:] else cut
            notes.append(f"the question was {len(question):,} characters; only its first {len(cut):,} were used "
                         f"(max_question_chars = {limit})")
            question = cut
        return question

    def _should_abstain(self, question: str, candidates: list[Candidate], passages: list[Passage]) -> bool:
        """Abstain when the question asks about something no passage mentions (a term outside
        :data:`rag.text.QUESTION_FILLER` that the corpus never uses), or unless some sentence covers
        enough of the question (``abstain_below``) and what the question pins down (names, a month
        and year, the kind of fact asked for) appears in that sentence's article."""
        if not candidates or self.retriever.unseen_terms(question, ignore=QUESTION_FILLER):
            return True
        kind = answer_type(question)
        anchors = set(content_terms(" ".join(names(question)))) | numbers(question)
        # "Which countries ...": "countries" is the kind of answer, not a word the sentence must use.
        asked_for = set(content_terms(" ".join(_ASKED_FOR.findall(question))))
        predicates = set(content_terms(question)) - anchors - QUESTION_FILLER - asked_for
        wanted_dates = month_years(question)
        wanted_years = {h for h in date_hints(question) if h.isdigit()}
        texts = self._texts(passages)
        everything = fold(" ".join(p.title for p in passages) + " " + " ".join(
            texts.get(a, "") for a in {p.article_id for p in passages}))
        asked_names = names(question)
        if any(name not in everything for name in asked_names):
            return True  # the question names something the retrieved articles never mention
        for candidate in candidates[:5]:
            if candidate.coverage < self.config.abstain_below:
                continue
            sentence_terms = set(content_terms(candidate.text))
            if predicates and not any(stem_in(p, sentence_terms) for p in predicates):
                continue  # the sentence shares only names with the question ("capital of France")
            passage = passages[candidate.passage]
            context = fold(passage.title + " " + texts.get(passage.article_id, passage.text))
            if asked_names and not any(name in context for name in asked_names):
                continue  # an article about something else ("Western capitals" for "capital of France")
            if not wanted_dates <= month_years(context) or any(y not in context for y in wanted_years):
                continue
            if kind in ("count", "weekday") and not answer_entities(candidate.text, question, kind):
                continue
            return False
        return True

    def _conflict(self, plan: _Plan, filters: Filters | None) -> list[Candidate]:
        """For a who/when/where/how-many question: each retrieved article's own best sentence (from
        a search within that article). When two or more articles answer with different,
        non-overlapping facts, those sentences (their passages added to the plan); else empty."""
        kind = answer_type(plan.question)
        if kind == "other" or not plan.candidates:
            return []
        floor = 0.8 * plan.candidates[0].score
        # Each version must answer the question about as fully as the best sentence does: a false
        # "the articles differ" misleads more than a missed one.
        coverage_floor = max(CONFLICT_COVERAGE, 0.9 * plan.candidates[0].coverage)
        articles = list(dict.fromkeys(p.source for p in plan.passages))[:4]
        versions: list[tuple[Candidate, Passage, frozenset[str]]] = []
        for source in articles:
            scope = Filters(sources=(source,), published_after=filters.published_after if filters else None,
                            published_before=filters.published_before if filters else None)
            own = self.retriever.retrieve(plan.standalone, top_k=2, filters=scope)
            ranked = self.extractive.candidates(plan.standalone, own, asked=plan.question)
            close = [c for c in ranked if c.score >= max(floor, 0.9 * ranked[0].score)
                     and c.coverage >= coverage_floor] if ranked else []
            stated = [(c, answer_entities(c.text, plan.question, kind, own[c.passage].text)) for c in close]
            stated = [(c, e) for c, e in stated if e]
            if stated:  # the close sentence that states the most of what was asked
                candidate, entities = max(stated, key=lambda item: (len(item[1]), item[0].score))
                versions.append((candidate, own[candidate.passage], entities))
        if len(versions) < 2 or any(a[2] & b[2] for i, a in enumerate(versions) for b in versions[i + 1:]):
            return []
        chosen = []
        for candidate, passage, _ in versions[:3]:
            if passage.id not in {p.id for p in plan.passages}:
                plan.passages.append(passage)
            index = next(i for i, p in enumerate(plan.passages) if p.id == passage.id)
            chosen.append(replace(candidate, passage=index))
        return chosen

    def _checked_sentences(self, answerer: Answerer, plan: _Plan) -> Iterator[tuple[Checked | None, int]]:
        """Check the draft sentence by sentence as it streams; yields (checked or None, count so far)."""
        buffer, done, seen = "", 0, 0
        for piece in answerer.stream(plan.standalone, plan.passages):
            buffer += piece
            if _REFUSAL.search(buffer):
                return
            claims = split_draft(buffer)
            # All but the last sentence are complete (the last may still be growing).
            for claim in claims[done:-1]:
                seen += 1
                yield self.verifier.check_claim(claim, plan.passages), seen
            done = max(done, len(claims) - 1)
            if seen >= MAX_DRAFT_SENTENCES:  # a short answer was asked for; small models ramble on
                return
        for claim in split_draft(buffer)[done:]:
            if _REFUSAL.search(claim.text):
                continue
            seen += 1
            yield self.verifier.check_claim(claim, plan.passages), seen

    def _abstention(self, plan: _Plan, started: float) -> Answer:
        text = ABSTAIN_TEXT
        if plan.passages:
            text += f" The closest they cover is {self._closest(plan.passages[0])}."
        plan.timings.setdefault("answer_ms", 0.0)
        plan.timings["total_ms"] = (time.perf_counter() - started) * 1000
        return Answer(question=plan.question, text=text, abstained=True, citations=[], supported=(0, 0),
                      answerer="abstained", timings=plan.timings, standalone_question=plan.standalone,
                      notes=tuple(plan.notes), passages=plan.passages)

    def _closest(self, passage: Passage) -> str:
        section = _section(self._texts([passage]).get(passage.article_id, ""), passage.start)
        where = f"“{passage.title}”"
        return f"“{section}” in {where}" if section and section != passage.title else where

    def _texts(self, passages: list[Passage]) -> dict[str, str]:
        return {p.article_id: self.retriever.article_text(p.article_id) for p in passages}


def _section(text: str, offset: int) -> str:
    """The heading a passage starting at ``offset`` sits under, if any."""
    heading = ""
    for unit in units(text):
        if unit.start > offset:
            break
        if unit.heading:
            heading = text[unit.start:unit.end]
    return heading


def _human_date(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.strftime('%B')} {day.day}, {day.year}"


def _publication_note(citations: list[Citation]) -> str:
    dated = [c for c in citations if c.published]
    if not dated:
        return ""
    parts = [f"[{c.n}] was published {_human_date(c.published)}" for c in dated]
    return " (" + "; ".join(parts) + ".)"
