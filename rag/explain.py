"""Why an answer is what it is, in a reader's words: the one place a decision is put into words.

    answer.decision          # a DecisionSummary: reason, confidence, threshold, the factors that weighed most
    explain(answer.decision) # "Not sure enough to answer: the chance that the articles answer this is 0.39, ..."
    answer.explanation       # the same words

The assistant builds the summary (:func:`summarize`) from the policy's :class:`rag.policy.Decision`
for every answer; :func:`explain` is what the page, ``rag ask``, ``rag serve`` and MCP show, so
they never say different things. A reason is one of :data:`REASONS`.

The factors are the features of the abstention model (:data:`rag.policy.FEATURES`) that moved the
confidence most the way it went: each one's effect is its weight times its distance from a neutral
value (even odds for the reader, 0.5 for a cosine, a share or whether the asked kind of fact is
stated, nothing missing for the rest), and an abstention names those that cost the most, an
answer those that gained the most. Left out: features that do not apply to the question (no date
asked, no name in it), and those whose fitted weight runs against their meaning (more of the
question's words shared counting against an answer: they stand in for the features they go with).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from index.cleaning import paired_quotes
from rag import nlp, policy
from rag.analysis import Analysis
from rag.dates import human_date
from rag.lexical import STOPWORDS, stem, stem_in, term_set, words

#: Why an answer abstained, or how it answered (``DecisionSummary.reason``; ``rag ask --json``'s ``reason``).
INSTRUCTION, NOTHING_RETRIEVED, NOTHING_TO_LOOK_FOR, UNSURE, RECORD_MISSING, NOTHING_CHECKED = (
    "instruction", "nothing_retrieved", "nothing_to_look_for", "unsure", "record_missing", "nothing_checked")
ANSWERED, DIFFER, RECORD = "answered", "differ", "record"
REASONS = (INSTRUCTION, NOTHING_RETRIEVED, NOTHING_TO_LOOK_FOR, UNSURE, RECORD_MISSING, NOTHING_CHECKED,
           ANSWERED, DIFFER, RECORD)
ABSTAINED = REASONS[:6]

_FROM_POLICY = {policy.INSTRUCTION: INSTRUCTION, policy.NOTHING_RETRIEVED: NOTHING_RETRIEVED,
                policy.NOTHING_TO_LOOK_FOR: NOTHING_TO_LOOK_FOR, policy.UNSURE: UNSURE}
_FROM_KIND = {"answer": ANSWERED, "differ": DIFFER, "record": RECORD}

#: How many factors a summary keeps, and the least effect (log-odds) one must have.
MOST_FACTORS, LEAST_EFFECT = 3, 0.05
#: The features of which more is more reason to answer, each with its neutral value (the reader's
#: two are log-odds: 0 is even odds, and what a passage not read gets); the others count what is
#: missing, and none missing is neutral.
_FOR_ANSWERING = {"coverage": 0.5, "cosine": 0.5, "similarity": 0.5, "typed": 0.5, "reader": 0.0,
                  "passage_reader": 0.0}

#: What a question asks for, in words, from the entity labels it asks (the first that applies).
_KINDS = ((frozenset({"DATE", "TIME"}), "a date or time"),
          (frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}), "an amount"),
          (frozenset({"GPE", "LOC", "FAC"}), "a place"),
          (frozenset({"PERSON", "ORG", "NORP"}), "a person or group"))
_RECORD = {"author": "names no author", "published": "states no publication date", "outlet": "names no outlet"}


@dataclass(frozen=True)
class Factor:
    """One feature of the decision: its value, its effect on the log-odds of answering (see the
    module docstring) and what it says, in words."""

    feature: str
    value: float
    effect: float
    words: str

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "value": round(self.value, 4), "effect": round(self.effect, 3),
                "words": self.words}


@dataclass(frozen=True)
class FilterEffect:
    """What the filters of one question left out of the indexed articles (see :func:`filter_effect`)."""

    articles: int  # indexed
    sources: str = ""  # the article filter in words ("" when none is set)
    dates: str = ""  # the date filter in words ("" when none is set)
    by_source: int = 0  # left out by the article filter
    undated: int = 0  # left out by the date filter for stating no publication date
    outside: int = 0  # left out by the date filter for a date outside the range

    @property
    def left_out(self) -> int:
        return self.by_source + self.undated + self.outside


@dataclass(frozen=True)
class DecisionSummary:
    """Why an answer is what it is: ``reason`` (one of :data:`REASONS`), the policy's
    ``confidence`` (None when it decided before estimating one) against its ``threshold``, the
    ``factors`` that weighed most, what the filters left out (for an abstention under filters),
    the question's count of content words, and for ``record_missing`` the article's title and the
    field its record lacks."""

    reason: str
    confidence: float | None = None
    threshold: float = policy.THRESHOLD
    factors: tuple[Factor, ...] = ()
    filters: FilterEffect | None = None
    terms: int = 0
    record: tuple[str, str] | None = None

    @property
    def abstained(self) -> bool:
        return self.reason in ABSTAINED


def reason_of(kind: str, policy_reason: str = "") -> str:
    """The summary's reason for a policy decision of ``kind`` (an abstention: its ``reason``)."""
    return _FROM_POLICY[policy_reason] if kind == "abstain" else _FROM_KIND[kind]


def summarize(decision: policy.Decision, analysis: Analysis, *, reason: str | None = None,
              threshold: float = policy.THRESHOLD, weights: Mapping[str, float] | None = None,
              known: Callable[[str], bool] | None = None, filters: FilterEffect | None = None,
              record: tuple[str, str] | None = None) -> DecisionSummary:
    """The summary of ``decision`` for ``analysis``. ``reason`` overrides the decision's (an
    article's record that lacks the value asked, a draft none of whose sentences survived the
    check); ``weights`` are the abstention model's (no factors without them); ``known`` tells the
    words some indexed passage uses."""
    reason = reason or reason_of(decision.kind, decision.reason)
    factors = _factors(decision, analysis, reason in ABSTAINED, weights or {}, known or (lambda term: True))
    return DecisionSummary(reason, decision.confidence, threshold, factors, filters, len(analysis.terms), record)


def filter_effect(filters, records: Iterable[Any], titles: Mapping[str, str] | None = None) -> FilterEffect:
    """What ``filters`` (a :class:`rag.retrieval.Filters`) leave out of the indexed ``records``:
    the article filter first, then the date filter on the articles it kept. ``titles`` maps
    sources to titles, to name the chosen articles (never by a server path). ``records`` are
    :class:`index.records.ArticleRecord` s."""
    records = list(records)
    effect = FilterEffect(len(records))
    if filters.sources:
        wanted = set(filters.sources)
        kept = [r for r in records if r.source in wanted or Path(r.source).name in wanted]
        effect = replace(effect, sources=replace(filters, published_after=None, published_before=None)
                         .describe(titles), by_source=len(records) - len(kept))
        records = kept
    after, before = filters.published_after, filters.published_before
    if after or before:
        undated = sum(r.published_date is None for r in records)
        outside = sum(r.published_date is not None and bool((after and r.published_date < after)
                                                            or (before and r.published_date > before))
                      for r in records)
        dates = f"published from {human_date(after)} to {human_date(before)}" if after and before else \
            f"published on or after {human_date(after)}" if after else f"published on or before {human_date(before)}"
        effect = replace(effect, dates=dates, undated=undated, outside=outside)
    return effect


def explain(summary: DecisionSummary | None) -> str:
    """The decision in a reader's words: why the answer abstained (and how to get one), or how
    sure it is of its answer and what weighed most. "" for no summary."""
    if summary is None:
        return ""
    reason, confidence = summary.reason, summary.confidence
    sure = "" if confidence is None else \
        f"the chance that the articles answer this is {confidence:.2f}, " \
        f"{'below' if confidence < summary.threshold else 'at or above'} the {summary.threshold:.2f} needed"
    weighed = "; ".join(f.words for f in summary.factors)
    weighed = f" What weighed most: {weighed}." if weighed else ""
    if reason == INSTRUCTION:
        return ("This reads as an instruction to the assistant, not a question about the articles; the assistant "
                "only says what the articles say: ask about them.")
    if reason == RECORD_MISSING:
        if summary.record is None:
            return "The article's record does not say what the question asks."
        title, field = summary.record
        return f"The article the question is about, “{paired_quotes(title)}”, {_RECORD[field]}."
    if reason == ANSWERED:
        return f"Answered: {sure}.{weighed}"
    if reason == DIFFER:
        return f"The articles differ on this, so each version is shown: {sure}.{weighed}"
    if reason == RECORD:
        return "Answered from the article's record (its byline and dates), not from its sentences."
    filtered = _filters_words(summary.filters)
    if reason == NOTHING_RETRIEVED:
        return f"Nothing could be searched: {filtered}." if filtered else "No passage was found to answer from."
    if reason == NOTHING_TO_LOOK_FOR:
        said = ("The question has no word to look for in the articles (only words like ‘what’ and ‘is’): ask "
                "about something they might cover." if not summary.terms else
                "The passages found have no sentence that could answer a question.")
    elif reason == UNSURE:
        said = f"Not sure enough to answer: {sure}.{weighed}"
    else:  # NOTHING_CHECKED
        said = "No sentence survived the check against the passage it cites, so nothing is said."
    return f"{said} The filters may have left the answer out: {filtered}." if filtered else said


def _filters_words(effect: FilterEffect | None) -> str:
    """What the filters left out and how to search more ("" when they left out nothing)."""
    if effect is None or not effect.left_out:
        return ""
    parts, widen = [], []
    if effect.sources:
        parts.append(f"the article filter ({effect.sources}) left out {_of(effect.by_source, effect.articles)}")
        widen.append("choose more articles")
    if effect.dates:
        given = effect.articles - effect.by_source
        why = [f"{n} {what}" for n, what in ((effect.undated, "with no publication date"),
                                            (effect.outside, "published outside those dates")) if n]
        parts.append(f"the date filter ({effect.dates}) left out {_of(effect.undated + effect.outside, given)}"
                     + (f" ({', '.join(why)})" if why else ""))
        widen.append("widen the dates (an article that states no date is left out whenever a date is set)")
    return f"{'; '.join(parts)}. To search more, {', '.join(widen)}, or clear the filters"


def _of(part: int, whole: int) -> str:
    if part == whole:
        return f"all {whole} articles" if whole != 1 else "the 1 article"
    return f"{part} of {whole} articles"


# ---- the factors --------------------------------------------------------------------------------

def _factors(decision: policy.Decision, analysis: Analysis, abstained: bool, weights: Mapping[str, float],
             known: Callable[[str], bool]) -> tuple[Factor, ...]:
    """The features that moved the confidence most the way it was decided, each in words."""
    if not decision.features:
        return ()
    found = []
    for name, value in decision.features.items():
        weight = weights.get(name, 0.0)
        if (weight > 0) != (name in _FOR_ANSWERING) or not weight or not _applies(name, analysis, decision):
            continue
        effect = weight * (value - _FOR_ANSWERING.get(name, 0.0))
        if (effect < -LEAST_EFFECT) if abstained else (effect > LEAST_EFFECT):
            found.append((name, value, effect))
    found.sort(key=lambda f: -abs(f[2]))
    factors: dict[str, Factor] = {}  # by their words: two features may say one thing ("‘pope’ is in no ...")
    for name, value, effect in found:
        said = _words(name, value, analysis, decision, known)
        factors.setdefault(said, Factor(name, value, effect, said))
    return tuple(factors.values())[:MOST_FACTORS]


def _applies(name: str, analysis: Analysis, decision: policy.Decision) -> bool:
    """Whether the feature says anything about this question (a date asked, a name in it ...)."""
    needs = {"typed": analysis.asked, "missing_names": analysis.names, "missing_dates": analysis.dates,
             "date_conflict": analysis.dates, "unseen_nouns": analysis.nouns, "unseen": analysis.terms,
             "reader": any(c.reader is not None for c in decision.candidates),
             "cosine": decision.candidates, "coverage": decision.candidates}
    return bool(needs.get(name, True))


def _words(name: str, value: float, analysis: Analysis, decision: policy.Decision,
           known: Callable[[str], bool]) -> str:
    """What the feature ``name`` at ``value`` says about this question, in words."""
    top = decision.candidates[:5]
    if name == "cosine":
        closest = max(top, key=lambda c: c.cosine)
        shared, asked = sum(stem_in(t, term_set(closest.text)) for t in analysis.terms), len(analysis.terms)
        of = f"all {asked} of the question's content words" if shared == asked > 1 else \
            f"{shared} of the question's {_count(asked, 'content word')}"
        return f"the sentence closest in meaning to the question (cosine {value:.2f}) shares {of}"
    if name == "coverage":
        return f"the closest sentences share {value:.0%} of the question's words, weighted by how rare they are"
    if name == "similarity":
        return f"the passage found closest to the question has a similarity of {value:.2f} (1 is the same meaning)"
    if name == "typed":
        kind = _kind(analysis.asked)
        return (f"a close sentence states {kind}, which the question asks for" if value else
                f"none of the closest sentences states {kind}, which the question asks for")
    if name in ("reader", "passage_reader"):
        chance = 1 / (1 + math.exp(-value))
        percent = round(chance * 100)
        # "an 8%", "an 11%", "an 18%", "an 80%" ... as they are said
        said = "less than a 1%" if chance < 0.01 else \
            f"{'an' if str(percent).startswith('8') or percent in (11, 18) else 'a'} {percent}%"
        what = "sentence" if name == "reader" else "passage found"
        return f"the reader model gives the best {what} {said} chance of answering the question"
    if name == "missing_names":
        names = list(dict.fromkeys(text for text, label in analysis.entities if label in nlp.NAME_LABELS))
        count = len(analysis.names)
        missing = round(value * count)
        if not missing:
            return f"every name in the question is in the articles found ({_listed(names)})"
        if missing == count:
            return f"{_listed(names)}, named in the question, {'is' if count == 1 else 'are'} in none of the " \
                   "articles found"
        return f"{missing} of the question's {count} names ({_listed(names)}) {'is' if missing == 1 else 'are'} " \
               "in none of the articles found"
    if name in ("unseen", "unseen_nouns"):
        terms = analysis.terms if name == "unseen" else analysis.nouns
        unseen = [t for t in terms if not known(t)]
        what = "word" if name == "unseen" else "noun"
        if not unseen:
            return f"every {what} of the question is in the indexed articles"
        shown = _surface(unseen, analysis.standalone)
        return f"{_listed(shown)} {'is' if len(shown) == 1 else 'are'} in no indexed article"
    dates = _listed(sorted(d.title() for d in analysis.dates))
    if name == "missing_dates":
        return f"the articles found never mention {dates}" if value else f"the articles found mention {dates}"
    if name == "date_conflict":
        return (f"the closest sentence gives another month than {dates}" if value else
                f"the closest sentence's month agrees with {dates}")
    if name == "missing_words":
        return f"the three closest sentences lack {value:.0%} of the question's words, weighted by how rare they are"
    if name == "rarest_missing":
        return ("the three closest sentences have all the question's rarer words" if not value else
                "the three closest sentences lack one of the question's rarer words")
    return f"{name.replace('_', ' ')} is {value:.2f}"


def _kind(asked: frozenset[str]) -> str:
    return next((words for labels, words in _KINDS if asked & labels), "the kind of fact")


def _surface(terms: list[str], question: str) -> list[str]:
    """The question's own words for stemmed ``terms`` (a stem as it is when none matches)."""
    by_stem = {}
    for word in words(question):
        if word not in STOPWORDS:
            by_stem.setdefault(stem(word), word)
    return [f"‘{by_stem.get(t, t)}’" for t in dict.fromkeys(terms)]


def _listed(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
