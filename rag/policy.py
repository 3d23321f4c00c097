"""The answer policy: from an analysed question and the retrieved passages, one decision.

    decision = policy.decide(analysis, passages, corpus)   # corpus: a CorpusView (rag.corpus.Corpus is one)
    decision.kind        # "abstain" (decision.reason says why), "record", "differ" or "answer"
    decision.confidence  # calibrated: the chance the articles answer it
    decision.disagreement                      # sentences from different articles giving different values
    decision.chosen                            # the sentences of the answer, the asked fact first

Every decision about whether and how to answer is made here, once: an instruction rather than a
question, nothing retrieved, a question about an article's record (its author, date or outlet:
answered from the record), too little confidence, articles that disagree, or an answer.

Four steps, each behind a one-method interface so a learned or model-backed version can replace it:

* :class:`SentenceScorer` ``score``: every prose sentence of the passages, scored by the
  embedding model's cosine with the question plus the IDF-weighted share of the question's words it
  (or its section heading) has; a sentence stating an entity of the asked type gets a bonus.
* :class:`Abstainer` ``confidence``: a logistic regression over a few features of the best
  sentences, fitted on the development questions only (``scripts/fit_abstention.py``); below
  ``abstain_threshold`` the assistant abstains.
* :class:`DisagreementDetector` ``detect``: the best sentences of two articles state different
  values of the asked type, and neither article's value appears in the other's sentence.
* :class:`Composer` ``compose``: the first sentence states the asked fact; a first sentence that
  mostly restates the question is followed by the next sentence of its passage (where such an
  introduction's answer usually is); runners-up that bear on the question follow, unless they
  state another value of it (a list question may have several).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Callable, Literal, Protocol

import numpy as np

from index.chunking import units
from rag import nlp
from rag.analysis import Analysis
from rag.retrieval import Passage
from rag.reader import Item, PassageReading, Reading
from rag.dates import month_years, times
from rag.lexical import (
    containment, content_terms, fold, looks_like_instruction, number_values, stem_in, term_set,
)


@dataclass(frozen=True)
class Candidate:
    """A passage sentence scored as an answer: ``start``/``end`` are offsets into the passage."""

    passage: int
    start: int
    end: int
    text: str
    score: float
    coverage: float  # IDF-weighted share of the question's words the sentence (or its heading) has
    cosine: float = 0.0  # the embedding model's cosine between the sentence and the question
    values: frozenset[str] = frozenset()  # entities of the asked type it states (folded), not the question's
    reader: float | None = None  # the reader's chance that the sentence answers the question (None: not read)
    answer: tuple[int, int] = (0, 0)  # the answering words the reader marked: text[answer[0]:answer[1]]
    answer_p: float = 0.0  # the reader's confidence in those words
    lead: bool = False  # the answering words alone, put before the sentence that holds them
    #: For a question about the latest (or first) of something: the latest (or earliest) time the
    #: sentence names, else its article's publication date, as (year, month); None when neither.
    when: tuple[int, int] | None = None


class CorpusView(Protocol):
    """What the policy reads beyond the retrieved passages (:class:`rag.corpus.Corpus` is one)."""

    def article_text(self, article_id: str) -> str: ...

    def known(self, term: str) -> bool: ...


#: Why the policy abstains (:attr:`Decision.reason`).
INSTRUCTION, NOTHING_RETRIEVED, NOTHING_TO_LOOK_FOR, UNSURE = (
    "an instruction, not a question", "nothing retrieved", "no word of the question to look for",
    "below the confidence threshold")


@dataclass
class Decision:
    """What the policy decided for one question: ``kind`` is ``abstain`` (with its ``reason``),
    ``record`` (ask the article's record), ``differ`` (``disagreement`` holds each article's
    version) or ``answer`` (``chosen`` holds the answer's sentences)."""

    kind: Literal["abstain", "record", "differ", "answer"]
    reason: str = ""
    candidates: list[Candidate] = field(default_factory=list)
    confidence: float | None = None  # None: decided before any estimate was made
    features: dict[str, float] = field(default_factory=dict)
    disagreement: list[Candidate] = field(default_factory=list)
    chosen: list[Candidate] = field(default_factory=list)

    @property
    def abstain(self) -> bool:
        return self.kind == "abstain"


# ---- sentence scoring ---------------------------------------------------------------------------

class SentenceScorer(ABC):
    @abstractmethod
    def score(self, analysis: Analysis, passages: list[Passage]) -> list[Candidate]:
        """Every candidate sentence of ``passages``, best first."""


class FusedScorer(SentenceScorer):
    """Cosine (the retriever's embedding model) plus lexical coverage (IDF-weighted, BM25's IDF),
    plus a bonus for stating an entity of the asked type."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray] | None = None,
                 idf: Callable[[str], float] | None = None, article_text: Callable[[str], str] | None = None,
                 cosine_weight: float = 1.0, type_bonus: float = 0.15, typed_pool: int = 12,
                 anchor_credit: float = 1.0):
        self.embed = embed
        self.idf = idf or (lambda term: 1.0)
        self.article_text = article_text or (lambda article_id: "")
        self.cosine_weight = cosine_weight
        self.type_bonus = type_bonus
        self.typed_pool = typed_pool  # sentences, best first, whose entities are read
        # A name or number of the question that the sentence's article has elsewhere ("the Geneva
        # talks"): it fixes what the question is about, so it counts for part of a word.
        self.anchor_credit = anchor_credit
        self._vectors: dict[str, np.ndarray] = {}

    def score(self, analysis: Analysis, passages: list[Passage]) -> list[Candidate]:
        target = set(analysis.target)
        weights = {t: self.idf(t) * (0.5 if t in target else 1.0) for t in analysis.terms}
        total = sum(weights.values()) or 1.0
        anchors = {t for text, label in analysis.entities for t in content_terms(text)} | set(analysis.numbers)
        found: list[tuple[int, int, int, str, float]] = []
        seen: set[tuple[str, int]] = set()
        for index, passage in enumerate(passages):
            context = term_set(passage.title + " " + passage.text)
            article = term_set(self.article_text(passage.article_id)) | context
            heading = term_set(passage.section + " " + passage.title)
            for unit in units(passage.text):
                text = passage.text[unit.start:unit.end]
                if unit.heading:
                    heading = term_set(text + " " + passage.title)
                    continue
                key = (passage.article_id, passage.start + unit.start)
                if text.endswith("?") or len(text.split()) < 4 or key in seen or looks_like_instruction(text):
                    continue
                seen.add(key)
                terms = term_set(text)
                coverage = sum(
                    w * (1.0 if stem_in(t, terms) else 0.75 if stem_in(t, heading)
                         else self.anchor_credit if t in anchors and t in article
                         else 0.25 if stem_in(t, context) else 0.0)
                    for t, w in weights.items()) / total
                found.append((index, unit.start, unit.end, text, coverage))
        if not found:
            return []
        cosines = self._cosines(analysis, [f[3] for f in found])
        ranked = sorted(
            (Candidate(i, s, e, text, cov + self.cosine_weight * cos - 0.005 * i, cov, cos)
             for (i, s, e, text, cov), cos in zip(found, cosines)), key=lambda c: -c.score)
        if not analysis.asked:
            return ranked
        pool = ranked[: self.typed_pool]
        typed = [self.with_values(analysis, c, ents) for c, ents in
                 zip(pool, nlp.entities_many([c.text for c in pool]))]
        return sorted(typed + ranked[self.typed_pool:], key=lambda c: -c.score)

    def with_values(self, analysis: Analysis, candidate: Candidate, ents, bonus: float | None = None) -> Candidate:
        """``candidate`` with the values of the asked type among ``ents``; one that states some gets
        ``bonus`` (default: this scorer's ``type_bonus``) added to its score."""
        values = stated_values(analysis, ents)
        if not values:
            return replace(candidate, values=frozenset())
        return replace(candidate, score=candidate.score + (self.type_bonus if bonus is None else bonus), values=values)

    def _cosines(self, analysis: Analysis, texts: list[str]) -> list[float]:
        if self.embed is None or analysis.vector is None:
            return [0.0] * len(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            if len(self._vectors) > 50_000:
                self._vectors.clear()
            for text, vector in zip(missing, self.embed(missing)):
                self._vectors[text] = np.asarray(vector)
        question = np.asarray(analysis.vector)
        return [float(self._vectors[t] @ question) for t in texts]


class ReaderScorer(SentenceScorer):
    """The fused scorer's best ``pool`` sentences, scored by the trained reader (:mod:`rag.reader`)
    in two steps. First each is scored by its passage's reading in windows of whole sentences (the
    reranker's, ``Passage.reading``, when it read the passage for this question; else read now):
    the reader's chance for the sentence plus ``fused_weight`` times its fused score. Then the best
    ``confirm`` of those are read again alone, each with its context (the article's title, the
    sentence before), as the reader was trained, and scored by that reading instead: in a window,
    sentences share the answer's chance, and where two could answer (two people's words for the
    talks) the wrong one could take the larger share. The sentences beyond the pool follow, in the
    fused order. The reader also marks the answering words of each sentence (``Candidate.answer``)."""

    def __init__(self, base: FusedScorer, reader, pool: int = 40, fused_weight: float = 1.0, type_bonus: float = 0.0,
                 confirm: int = 8):
        self.base = base
        self.reader = reader
        self.pool = pool
        self.fused_weight = fused_weight
        self.type_bonus = type_bonus
        self.confirm = confirm

    @property
    def idf(self) -> Callable[[str], float]:
        return self.base.idf

    def score(self, analysis: Analysis, passages: list[Passage]) -> list[Candidate]:
        ranked = self.base.score(analysis, passages)
        head, tail = ranked[: self.pool], ranked[self.pool:]
        if not head:
            return ranked
        # The question asked now, in the user's words: a follow-up joined with the question before
        # it ("... (Following up on: Who called the talks businesslike?)") had the reader mark the
        # earlier question's answer. Retrieval, which needs both, had the joined question.
        readings = self.readings(analysis.question, passages, sorted({c.passage for c in head}))
        read, unread = [], []
        for c in head:
            r = readings[c.passage].sentences.get(c.start)
            if r is None:  # not a sentence the reader's windows hold (none is expected): fused order
                unread.append(c)
                continue
            read.append(self._scored(c, r, c.score))
        read.sort(key=lambda c: -c.score)
        before = _preceding(passages)
        best = read[: self.confirm]
        alone = self.reader.read(analysis.question, [
            Item(c.text, passages[c.passage].title, before.get((c.passage, c.start), "")) for c in best])
        fused = {(c.passage, c.start): c.score for c in head}
        read = sorted((self._scored(c, r, fused[(c.passage, c.start)]) for c, r in zip(best, alone)),
                      key=lambda c: -c.score) + read[self.confirm:]
        if analysis.asked:  # the entities of the asked type, for the reader's best (the fused ones may differ)
            top = read[: self.base.typed_pool]
            read = sorted((self.base.with_values(analysis, c, ents, self.type_bonus) for c, ents in
                           zip(top, nlp.entities_many([c.text for c in top]))), key=lambda c: -c.score) \
                + read[self.base.typed_pool:]
        floor = min((c.score for c in read), default=0.0)
        return read + [replace(c, score=floor - 1.0 + c.score * 1e-3) for c in unread + tail]

    def _scored(self, candidate: Candidate, reading: Reading, fused: float) -> Candidate:
        return replace(candidate, score=reading.p + self.fused_weight * fused, reader=reading.p,
                       answer=(reading.start, reading.end), answer_p=reading.span_p)

    def readings(self, question: str, passages: list[Passage], indices: list[int]) -> dict[int, PassageReading]:
        """The reading of each of ``passages[i]`` for i in ``indices``, by index: the reranker's
        where it read the passage for ``question``; the others are read now, together (side by side)."""
        kept = {i: passages[i].reading for i in indices
                if passages[i].reading is not None and passages[i].reading.question == question}
        unread = [i for i in indices if i not in kept]
        if unread:
            fresh = self.reader.read_passages(question, [(passages[i].text, passages[i].title) for i in unread])
            kept.update(zip(unread, fresh))
        return kept


def _when(candidate: Candidate, passages: list[Passage], recency: int) -> tuple[int, int] | None:
    """The latest (``recency`` 1) or earliest (-1) time a candidate names, else its article's
    publication date (:func:`rag.dates.times`); None when neither is known."""
    named = times(candidate.text, passages[candidate.passage].published)
    return (named[-1] if recency > 0 else named[0]) if named else None


def _preceding(passages: list[Passage]) -> dict[tuple[int, int], str]:
    """For each sentence of each passage (passage index, start), the sentence before it in the
    passage, or the passage's section heading for its first sentence."""
    found: dict[tuple[int, int], str] = {}
    for index, passage in enumerate(passages):
        previous = passage.section
        for unit in units(passage.text):
            text = passage.text[unit.start:unit.end]
            found[(index, unit.start)] = previous
            previous = text
    return found


def stated_values(analysis: Analysis, ents) -> frozenset[str]:
    """The values of the asked type among ``ents`` (folded; numbers normalised) that the question
    does not itself state."""
    asked_by_question = {fold(text) for text, _ in analysis.entities} | set(analysis.numbers)
    values = set()
    for text, label in ents:
        if label not in analysis.asked:
            continue
        folded = fold(text)
        if folded in asked_by_question or any(folded in q or q in folded for q in asked_by_question if len(q) > 3):
            continue
        if label in ("CARDINAL", "QUANTITY", "MONEY", "PERCENT"):
            numeric = number_values(text) - set(analysis.numbers)
            if numeric:
                values |= numeric
                continue
        values.add(folded.removeprefix("the "))
    return frozenset(values)


# ---- abstention ---------------------------------------------------------------------------------

FEATURES = ("coverage", "cosine", "similarity", "typed", "missing_names", "unseen", "missing_dates", "missing_words",
            "rarest_missing", "unseen_nouns", "date_conflict", "reader", "passage_reader")

#: Logistic regression fitted on the dev halves of the seeds, SQuAD and the news dev set, and on the
#: news dev questions with the 171 written for the whole corpus asked against the whole BBC corpus
#: (``news@bbc``: where users are, collections of thousands of articles), each group weighing the
#: same; L2 penalty 50 chosen by 10-fold cross-validation on them (``scripts/fit_abstention.py``,
#: 2026-12-07, with the reader fine-tuned on windows, passages read in windows of whole sentences
#: and the best 8 sentences read alone; 46 + 104 + 50 + 221 questions; cross-validated AUC 0.827,
#: 0.795 with the reader before). ``reader`` is the reader's best chance for a sentence as
#: log-odds, ``passage_reader`` its best for a reranked passage: left out, the AUC is 0.813 and
#: 0.827 (``--drop``; the two are collinear, and together they are kept as fitted). Weights held
#: to the side of zero each feature's meaning gives it (``--signed``) cross-validated lower (0.820;
#: coverage, missing_words and rarest_missing went to zero), so the collinear features keep their
#: fitted signs. ``names_apart`` (the share of the question's names absent from the best passage)
#: was removed in an earlier fit: left out, the AUC rose from 0.723 to 0.742.
WEIGHTS = {"coverage": -0.681, "cosine": 1.052, "similarity": 2.407, "typed": 0.238, "missing_names": -0.526,
           "unseen": -0.716, "missing_dates": 0.000, "missing_words": 0.539, "rarest_missing": 0.015,
           "unseen_nouns": -2.034, "date_conflict": -3.000, "reader": 0.191, "passage_reader": 0.152}
BIAS = -1.263
#: Abstain below this confidence: on the same dev questions, the most correct abstention with false
#: abstention at most 0.10 on average (printed by the same script: 0.63 and 0.094 on average; 0.53
#: and 0.06 against the whole BBC corpus). ``Config.abstain_threshold`` defaults to it (a test
#: keeps the two equal).
THRESHOLD = 0.60


class Abstainer(ABC):
    @abstractmethod
    def confidence(self, features: dict[str, float]) -> float:
        """The chance (0-1) that the articles answer the question."""


class LogisticAbstainer(Abstainer):
    def __init__(self, weights: dict[str, float] | None = None, bias: float | None = None):
        self.weights = dict(WEIGHTS if weights is None else weights)
        self.bias = BIAS if bias is None else bias

    def confidence(self, features: dict[str, float]) -> float:
        z = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def features(analysis: Analysis, candidates: list[Candidate], passages: list[Passage], corpus: str,
             unseen: frozenset[str] = frozenset(), idf: Callable[[str], float] = lambda term: 1.0) -> dict[str, float]:
    """What the abstention model sees. ``corpus`` is the folded text of the retrieved articles
    (titles included); ``unseen`` holds the question's terms that no indexed passage uses. A verb
    the articles never use is often a paraphrase ("attended" for "met"); a noun they never use is
    more often something they do not cover ("the Pope"), hence ``unseen_nouns`` beside ``unseen``."""
    top = candidates[:5]
    names = [n for n in analysis.names if len(n) > 1]
    missing = sum(not all(part in corpus for part in n.split()) for n in names)
    dates = analysis.dates
    # The question's words that none of the three best sentences has, weighted by IDF.
    said = term_set(" ".join(c.text for c in candidates[:3]))
    weights = {t: idf(t) for t in analysis.terms if t not in analysis.target}
    absent = [t for t in weights if not stem_in(t, said)]
    total, top_weight = sum(weights.values()) or 1.0, max(weights.values(), default=1.0) or 1.0
    return {
        "coverage": max((c.coverage for c in top), default=0.0),
        "cosine": max((c.cosine for c in top), default=0.0),
        "similarity": max((max(p.similarity, 0.0) for p in passages), default=0.0),
        "typed": float(not analysis.asked or any(c.values for c in candidates[:3])),
        "missing_names": missing / len(names) if names else 0.0,
        "unseen": len(unseen) / max(len(analysis.terms), 1),
        "missing_dates": float(bool(dates) and not dates <= month_years(corpus)),
        "missing_words": sum(weights[t] for t in absent) / total,
        "rarest_missing": max((weights[t] for t in absent), default=0.0) / top_weight,
        "unseen_nouns": sum(t in unseen for t in analysis.nouns) / max(len(analysis.nouns), 1),
        "date_conflict": float(bool(dates) and bool(candidates) and _date_conflict(dates, candidates[0].text)),
        "reader": _log_odds(max((c.reader for c in candidates if c.reader is not None), default=0.5)),
        # the reranker's best chance that a whole passage answers (0, even odds, when none was read)
        "passage_reader": _log_odds(max((p.reader for p in passages if p.reader is not None), default=0.5)),
    }


def _log_odds(p: float) -> float:
    """The reader's chance as log-odds (what a logistic regression combines linearly), within ±10."""
    p = min(max(p, 1e-5), 1 - 1e-5)
    return math.log(p / (1 - p))


def _date_conflict(asked: frozenset[str], sentence: str) -> bool:
    """The sentence dates what the question asks about to another month ("May 2025" for "June 2025")."""
    stated = month_years(sentence)
    return bool(stated) and not stated & asked


AGENTS = frozenset({"PERSON", "ORG", "NORP"})


def single_valued(analysis: Analysis) -> bool:
    """One value is wanted (a date, an amount, a place ...): not a list, and not people or groups,
    who often act together (two articles naming different mediators need not disagree)."""
    return bool(analysis.asked) and not analysis.plural and not analysis.asked & AGENTS


# ---- disagreement -------------------------------------------------------------------------------

class DisagreementDetector(ABC):
    @abstractmethod
    def detect(self, analysis: Analysis, candidates: list[Candidate], passages: list[Passage]) -> list[Candidate]:
        """Sentences (one per article, best first) that give different values of the asked fact,
        or nothing when the articles agree or the question asks no single value."""


class EntityDisagreement(DisagreementDetector):
    """Two articles' best sentences, each about as good an answer as the best one (score, which
    holds the reader's chance when it has read them, and coverage), state values of the asked type
    that the other article's passage never mentions. Among the best ``pool`` sentences, a sentence
    also counts as about as good when the reader marked its answering words, stating a value of the
    asked type, with at least ``LEAD_MIN`` confidence, as it did in the best one: the reader's
    chance that a sentence answers varies far more between two retellings than its confidence in
    the words (0.28 and 0.18, but 0.70 and 0.82, for the two seed sentences that date the war
    differently). (The reader's chance alone was tried as "both answer": its calibration on news
    is too low for a fixed bar.)"""

    def __init__(self, closeness: float = 0.9, coverage: float = 0.8, pool: int = 12):
        self.closeness = closeness
        self.coverage = coverage
        self.pool = pool

    def detect(self, analysis: Analysis, candidates: list[Candidate], passages: list[Passage]) -> list[Candidate]:
        if not single_valued(analysis) or not candidates:
            return []
        # The reference is the answer the composer would lead with: the best of the top three that
        # states a value of the asked type.
        best = next((c for c in candidates[:3] if c.values), None)
        if best is None:
            return []
        best_sure = _sure(best)
        versions: dict[str, Candidate] = {}
        for candidate in candidates[:self.pool]:
            if candidate.score < self.closeness * best.score and not (best_sure and _sure(candidate)):
                continue
            article = passages[candidate.passage].article_id
            if candidate.values and article not in versions \
                    and candidate.coverage >= self.coverage * best.coverage:
                versions[article] = candidate
        chosen = list(versions.values())[:2]
        if len(chosen) < 2:
            return []
        a, b = chosen
        if a.values & b.values or _mentions(a.values, fold(passages[b.passage].text)) \
                or _mentions(b.values, fold(passages[a.passage].text)):
            return []  # the same value, or each article also says the other's
        return chosen


def _sure(candidate: Candidate) -> bool:
    """The reader marked answering words in ``candidate`` with at least LEAD_MIN confidence, and they
    state a value of the asked type."""
    start, end = candidate.answer
    return candidate.reader is not None and candidate.answer_p >= LEAD_MIN and end > start \
        and _mentions(candidate.values, fold(candidate.text[start:end]))


def _mentions(values: frozenset[str], folded_text: str) -> bool:
    return any(v in folded_text for v in values)


# ---- composing ----------------------------------------------------------------------------------

class Composer(ABC):
    @abstractmethod
    def compose(self, analysis: Analysis, candidates: list[Candidate]) -> list[Candidate]:
        """The sentences of the answer, in the order shown."""


#: The reader's confidence in the answering words above which the answer starts with them
#: (a span the reader gives even odds or better; set before measuring, not tuned).
LEAD_MIN = 0.5


class FocusedComposer(Composer):
    """The best sentence first (the best of the top three stating a value of the asked type, when
    one is asked); runners-up within ``relative_floor`` of its score follow, unless they repeat a
    chosen sentence or state another value of a single-valued fact.

    A lead sentence that mostly restates the question ("Several countries have attempted to
    facilitate dialogue.", "... include:") is followed by the next sentence of its passage, where
    such an introduction's answer usually is: an *echo* is a sentence of which less than
    ``echo_novelty`` of the content words are new, i.e. not the question's."""

    def __init__(self, max_sentences: int = 3, relative_floor: float = 0.8, duplicate_overlap: float = 0.6,
                 echo_novelty: float = 0.8, lead_min: float = LEAD_MIN, prefer_typed: bool = True):
        self.lead_min = lead_min
        self.prefer_typed = prefer_typed
        self.max_sentences = max_sentences
        self.relative_floor = relative_floor
        self.duplicate_overlap = duplicate_overlap
        self.echo_novelty = echo_novelty

    def compose(self, analysis: Analysis, candidates: list[Candidate]) -> list[Candidate]:
        if not candidates:
            return []
        first = candidates[0]
        if self.prefer_typed and analysis.asked and not first.values:
            first = next((c for c in candidates[:3] if c.values), first)
        first = self._latest(analysis, first, candidates)
        if analysis.said and first.text in analysis.said:  # a follow-up: what was just said is not its answer
            first = next((c for c in candidates if c.text not in analysis.said
                          and c.score >= self.relative_floor * first.score), first)
        single = single_valued(analysis)
        chosen = [first]
        chosen_terms = [term_set(first.text)]
        follow = self._continuation(analysis, first, candidates)
        if follow is not None:
            chosen.append(follow)
            chosen_terms.append(term_set(follow.text))
        for candidate in candidates:
            if len(chosen) == self.max_sentences or candidate.score < self.relative_floor * first.score:
                break
            if candidate is first or candidate is follow or (analysis.said and candidate.text in analysis.said):
                continue
            if single and candidate.values and first.values and not candidate.values & first.values:
                continue  # another value of the asked fact, not flagged as a disagreement
            terms = term_set(candidate.text)
            if any(containment(terms, other) >= self.duplicate_overlap for other in chosen_terms):
                continue
            chosen.append(candidate)
            chosen_terms.append(terms)
        lead = self._lead(first)
        return [lead, *chosen] if lead is not None else chosen

    def _latest(self, analysis: Analysis, first: Candidate, candidates: list[Candidate]) -> Candidate:
        """For a question about the latest (or first) of something, when ``first`` names a time:
        the sentence close to it (stating the asked type, if ``first`` does) that names the latest
        (or earliest) time, if later (or earlier) than ``first``'s. Close: a score within
        ``relative_floor`` of ``first``'s, or a reader's chance within ``relative_floor`` of the
        best sentence's (the reader's chances spread the scores wide: "the first talks" and "the
        earliest formal attempts" can both read as answers and score far apart)."""
        if not analysis.recency or first.when is None:
            return first
        best_reader = max((c.reader for c in candidates if c.reader is not None), default=None)
        close = [c for c in candidates if c.when is not None and (c.values or not first.values) and (
            c.score >= self.relative_floor * first.score
            or (best_reader and c.reader is not None and c.reader >= self.relative_floor * best_reader))]
        if analysis.recency > 0:  # ties go to the higher score: the candidates come best first
            best = max(close, key=lambda c: c.when)
            return best if best.when > first.when else first
        best = min(close, key=lambda c: c.when)
        return best if best.when < first.when else first

    def _lead(self, first: Candidate) -> Candidate | None:
        """The answering words the reader marked in ``first``, when it is confident of them and they
        are a part of the sentence (not most of it)."""
        start, end = first.answer
        if first.reader is None or first.answer_p < self.lead_min or end <= start:
            return None
        words = first.text[start:end].strip(" ,;:.")
        if not words or len(words) > 0.6 * len(first.text):
            return None
        begin = first.start + start + first.text[start:end].index(words)
        return replace(first, start=begin, end=begin + len(words), text=words, lead=True)

    def _continuation(self, analysis: Analysis, first: Candidate, candidates: list[Candidate]) -> Candidate | None:
        """The sentence after ``first`` in its passage, when ``first`` is an echo of the question."""
        terms = content_terms(first.text)
        asked = set(analysis.terms)
        new = [t for t in terms if not stem_in(t, asked)]
        if terms and len(new) / len(terms) >= self.echo_novelty and not first.text.rstrip().endswith(":"):
            return None
        after = [c for c in candidates if c.passage == first.passage and c.start >= first.end]
        return min(after, key=lambda c: c.start) if after else None


# ---- the policy ---------------------------------------------------------------------------------

class Policy:
    """The four decisions, in order (see the module docstring)."""

    def __init__(self, scorer: SentenceScorer | None = None, abstainer: Abstainer | None = None,
                 disagreement: DisagreementDetector | None = None, composer: Composer | None = None,
                 threshold: float = THRESHOLD):
        self.scorer = scorer or FusedScorer()
        self.abstainer = abstainer or LogisticAbstainer()
        self.disagreement = disagreement or EntityDisagreement()
        self.composer = composer or FocusedComposer()
        self.threshold = threshold

    def decide(self, analysis: Analysis, passages: list[Passage], corpus: CorpusView | None = None) -> Decision:
        """The one decision for this question (see the module docstring). ``corpus`` gives the
        retrieved articles' whole text and which words the index knows (without it, only the
        passages are read and every word counts as known)."""
        if analysis.instruction:
            return Decision("abstain", INSTRUCTION)
        if not passages:
            return Decision("abstain", NOTHING_RETRIEVED)
        if analysis.about_article:
            return Decision("record")
        return self.judge(analysis, passages, corpus)

    def judge(self, analysis: Analysis, passages: list[Passage], corpus: CorpusView | None = None) -> Decision:
        """The decision from the passages' sentences: how sure, whether the articles differ, and
        what to say. What :meth:`decide` does for a question about the articles' content (and what
        ``scripts/fit_abstention.py`` fits the abstention model on)."""
        candidates = self.scorer.score(analysis, passages)
        if not candidates or not analysis.terms:  # nothing, or no word of the question to look for
            return Decision("abstain", NOTHING_TO_LOOK_FOR, candidates, 0.0)
        texts = {p.article_id: corpus.article_text(p.article_id) if corpus else p.text for p in passages}
        text = fold(" ".join(p.title for p in passages) + " " + " ".join(texts.values()))
        unseen = frozenset(t for t in analysis.terms if corpus is not None and not corpus.known(t))
        signals = features(analysis, candidates, passages, text, unseen, getattr(self.scorer, "idf", lambda t: 1.0))
        confidence = self.abstainer.confidence(signals)
        if confidence < self.threshold:
            return Decision("abstain", UNSURE, candidates, confidence, signals)
        disagreement = self.disagreement.detect(analysis, candidates, passages)
        if disagreement:
            return Decision("differ", "", candidates, confidence, signals, disagreement, disagreement)
        if analysis.recency:  # "the latest talks": the composer reads when each sentence says it happened
            candidates = [replace(c, when=_when(c, passages, analysis.recency)) for c in candidates]
        return Decision("answer", "", candidates, confidence, signals, chosen=self.composer.compose(analysis, candidates))
