"""The draft and check steps: the sentences of an answer the policy decided on, each checked
against the passage it cites before it is said.

* :class:`QuotedDrafter`: the policy's chosen sentences (or answering words), quoted; each is the
  text at its own offsets in the passage it cites, so it is checked by construction.
* :class:`ModelDrafter`: a generative model (:class:`rag.answerers.LLMAnswerer`) writes the
  answer; :class:`rag.verify.Verifier` checks it sentence by sentence as it streams; when no
  sentence survives, or the model fails, the quoted answer stands in, and a note says why.

Both quote the sentences from different articles that give different values when the policy
found the articles to differ (:meth:`Drafter.draft`). A drafter is shared by every request: what
one answer's drafting found is kept in the :class:`Draft` it is given.
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import Iterable, Iterator

from index.errors import ModelError
from rag.answer import StreamEvent
from rag.answerers import Answerer, ExtractiveAnswerer
from rag.notes import dropped_note
from rag.plan import Citations, Plan
from rag.policy import Candidate
from rag.retrieval import Passage
from rag.verify import Checked, Claim, Support, Verifier, split_draft

DIFFER_TEXT = "The articles differ on this."
MAX_DRAFT_SENTENCES = 4
#: Least seconds between two updates of the unchecked draft in the stream.
DRAFT_EVERY = 0.25
_REFUSAL = re.compile(r"NOT\s+IN\s+(?:THE\s+)?ARTICLES", re.I)


@dataclass
class Draft:
    """How one answer was drafted, as it goes: the answerer's name as the answer reports it, the
    sentences written so far, and a model's own sentences (kept after the check, written)."""

    answerer: str
    seen: int = 0
    drafted: tuple[int, int] | None = None


class Drafter(ABC):
    """Drafts the answer the policy decided on, yielding each checked sentence as a ``"sentence"``
    event (its citations numbered by the :class:`rag.plan.Citations` given). Subclasses implement
    :meth:`_draft`."""

    #: What drafts an answer from passages alone (the llama-index starter baseline reuses it).
    answerer: Answerer

    @property
    def name(self) -> str:
        return self.answerer.name

    def draft(self, plan: Plan, citations: Citations, draft: Draft) -> Iterator[StreamEvent]:
        """The answer's checked sentences: the disagreeing sources quoted when the policy found the
        articles to differ, else what :meth:`_draft` writes."""
        if plan.decision.kind == "differ":
            yield StreamEvent("sentence", text=DIFFER_TEXT)
            yield from self.quote(plan.decision.disagreement, plan, citations, draft)
            draft.answerer = f"{self.name}+sources-differ"
            return
        yield from self._draft(plan, citations, draft)

    @abstractmethod
    def _draft(self, plan: Plan, citations: Citations, draft: Draft) -> Iterator[StreamEvent]: ...

    @staticmethod
    def quote(chosen: list[Candidate], plan: Plan, citations: Citations, draft: Draft) -> Iterator[StreamEvent]:
        """The policy's chosen sentences (or answering words), checked by construction: each is the
        text at its own offsets in the passage it cites, so nothing is split or searched again."""
        for draft.seen, candidate in enumerate(chosen, 1):
            passage = plan.passages[candidate.passage]
            support = Support(candidate.passage, passage.start + candidate.start, passage.start + candidate.end, 1.0)
            yield said(Checked(ExtractiveAnswerer.sentence(candidate), (support,)), plan, citations)


def said(checked: Checked, plan: Plan, citations: Citations) -> StreamEvent:
    """A checked sentence as a ``"sentence"`` event, with the sources cited so far; the first one
    records when it was ready (what a user waits for)."""
    plan.timings.setdefault("first_sentence_ms", plan.elapsed_ms())
    return StreamEvent("sentence", text=citations.add(checked), citations=tuple(citations.citations()))


class QuotedDrafter(Drafter):
    """No generative model: the policy's chosen sentences, quoted (see the module docstring)."""

    def __init__(self, answerer: ExtractiveAnswerer):
        self.answerer = answerer

    def _draft(self, plan: Plan, citations: Citations, draft: Draft) -> Iterator[StreamEvent]:
        yield from self.quote(plan.decision.chosen, plan, citations, draft)


class ModelDrafter(Drafter):
    """A generative model's answer, checked as it streams (see the module docstring).
    ``reads_chosen``: the model is given only the sentences the policy chose (in their passages'
    numbering), the smaller task a small model does better."""

    def __init__(self, answerer: Answerer, verifier: Verifier | None = None, *, reads_chosen: bool = False):
        self.answerer = answerer
        self.verifier = verifier or Verifier()
        self.reads_chosen = reads_chosen

    def _draft(self, plan: Plan, citations: Citations, draft: Draft) -> Iterator[StreamEvent]:
        """A model given up on is said at once, as progress (and an empty draft drops its
        unchecked text); a note on the answer says what the check left out, and why."""
        count, model = len(plan.passages), self.name
        yield plan.progress(f"The {model} model is reading {count} passage{'s' if count != 1 else ''}")
        read = _chosen_only(plan) if self.reads_chosen else plan.passages
        draft.drafted, failure = (0, 0), None
        asked = time.perf_counter()
        try:
            for step in self._checked(self.answerer.stream(plan.standalone, read), plan):
                if isinstance(step, StreamEvent):  # the draft, not checked yet, or the sentence being checked
                    yield step
                    continue
                checked, draft.seen = step
                draft.drafted = (draft.drafted[0] + (checked is not None), draft.seen)
                if checked is not None:
                    yield said(checked, plan, citations)
        except ModelError as error:  # the model died, hung or is unreachable: say so at once, answer anyway
            failure = str(error)
            kept = len(citations.sentences)
            then = f"keeping the {kept} sentence{'s' if kept != 1 else ''} checked so far" if kept else \
                "showing the quoted answer"
            yield StreamEvent("draft", text="")  # the unchecked rest is given up on with the model
            yield plan.progress(f"The {model} model failed after {time.perf_counter() - asked:.0f} s: {then}")
        if citations.sentences:
            dropped = dropped_note(model, *draft.drafted)
            if dropped:
                plan.notes.append(dropped)
            if failure:
                plan.notes.append(f"the answer was cut short: {failure}")
            return
        if not failure:
            yield StreamEvent("draft", text="")
            yield plan.progress(f"The {model} model's sentences were not supported by the articles: "
                                "showing the quoted answer")
        plan.notes.append(f"{failure}; so this is the quoted answer" if failure else
                          f"the {model} model's sentences were not supported by the articles, "
                          "so this is the quoted answer")
        draft.answerer = f"{model}->extractive"
        yield from self.quote(plan.decision.chosen, plan, citations, Draft(draft.answerer))

    def _checked(self, stream: Iterable[str], plan: Plan) -> Iterator[tuple[Checked | None, int] | StreamEvent]:
        """Check the draft sentence by sentence as it streams; yields (checked or None, count so
        far) for each sentence, a ``"progress"`` event before each check ("Checking sentence 2 of
        the draft"), and between them the text written but not checked yet as a ``"draft"`` event
        (at most every :data:`DRAFT_EVERY` seconds), for a page to show as it is written."""
        buffer, done, seen, shown = "", 0, 0, 0.0

        def checking(claim: Claim, number: int) -> Iterator[tuple[Checked | None, int] | StreamEvent]:
            yield plan.progress(f"Checking sentence {number} of the draft against its sources")
            yield self.verifier.check_claim(claim, plan.passages), number

        for piece in stream:
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


def _chosen_only(plan: Plan) -> list[Passage]:
    """The retrieved passages cut to the sentences the answer policy chose (in their order; a
    passage with none is left empty), for a model given the smaller task of writing the answer
    from those alone. Its citations still number the passages."""
    chosen: dict[int, list[str]] = {}
    for candidate in plan.decision.chosen:
        if not candidate.lead:  # the reader's span is part of a chosen sentence
            text = plan.passages[candidate.passage].text[candidate.start:candidate.end]
            chosen.setdefault(candidate.passage, []).append(text)
    return [replace(p, text=" ".join(chosen.get(i, []))) for i, p in enumerate(plan.passages)]
