"""Running the gold questions through an assistant and scoring every answer.

    from evals import run, load_questions
    report = run(assistant, load_questions())
    print(report.to_markdown())
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from evals.judge import citation_scores as judge_citations
from evals.judge import has_gold_span
from evals.metrics import (
    answer_sentences, bootstrap_ci, citation_scores, faithfulness_scores, forbidden_found, key_fact_scores, mean,
    percentile, retrieval_scores,
)

QUESTIONS = Path(__file__).parent / "data" / "questions.jsonl"

#: Every metric: the population it is averaged over and the direction that is better.
METRICS = {
    # retrieval (a passage is relevant when it holds a gold evidence quote)
    "recall@1": ("answerable", "up"), "recall@5": ("answerable", "up"), "mrr@10": ("answerable", "up"),
    "ndcg@10": ("answerable", "up"),
    # primary: judged from the gold data alone (key facts, gold spans, gold evidence, abstention)
    "key_fact_recall": ("answerable", "up"), "all_facts": ("answerable", "up"),
    "gold_span": ("answerable", "up"), "overall": ("all", "up"),
    "citation_correct": ("answered", "up"), "evidence_cited": ("answered", "up"),
    "forbidden_rate": ("all", "down"),
    "correct_abstention": ("unanswerable", "up"), "false_abstention": ("answerable", "down"),
    # secondary: the eval's support check (evals/support.py) on the answer's sentences
    "citation_recall": ("answered", "up"), "citation_precision": ("answered", "up"),
    "cited_sentences": ("answered", "up"),
    "faithfulness": ("answered", "up"), "unsupported_values": ("answered", "down"),
    # a generative answerer's own contribution: answers in which at least one sentence it wrote
    # survived the check, and the share of its sentences kept (the rest were replaced by quotes)
    "model_answers": ("answered", "up"), "model_sentences_kept": ("answered", "up"),
}
RETRIEVAL = ("recall@1", "recall@5", "mrr@10", "ndcg@10")
PRIMARY = ("key_fact_recall", "all_facts", "gold_span", "overall", "citation_correct", "evidence_cited",
           "forbidden_rate", "correct_abstention", "false_abstention")
SECONDARY = ("citation_recall", "citation_precision", "cited_sentences", "faithfulness", "unsupported_values")
GENERATIVE = ("model_answers", "model_sentences_kept")

#: The headline metrics, with which questions each is over and which way is better (floors: ``evals/floors.json``).
HEADLINE = {name: METRICS[name] for name in (*RETRIEVAL, "key_fact_recall", "all_facts", "forbidden_rate",
                                              "citation_correct", "evidence_cited", *SECONDARY,
                                              "correct_abstention", "false_abstention")}


@dataclass
class QuestionResult:
    id: str
    type: str
    answerable: bool
    question: str
    gold_answer: str
    answer: dict[str, Any]
    scores: dict[str, float]
    retrieve_ms: float
    answer_ms: float
    failures: list[str] = field(default_factory=list)
    confidence: float | None = None  # the answer policy's chance that the articles answer it


@dataclass
class Report:
    """Per-question results and the aggregate metrics (with 95% bootstrap intervals)."""

    name: str
    results: list[QuestionResult]
    metrics: dict[str, float | None]
    intervals: dict[str, tuple[float, float] | None]
    latency: dict[str, float | None]
    by_type: dict[str, dict[str, float | None]]
    suite: str = "seeds"

    @property
    def failed(self) -> list[QuestionResult]:
        return [r for r in self.results if r.failures]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "suite": self.suite, "metrics": self.metrics, "intervals": self.intervals,
                "latency": self.latency, "by_type": self.by_type, "results": [asdict(r) for r in self.results]}

    def cell(self, name: str) -> str:
        """``value (low–high)``: the mean and its 95% interval, or ``n/a``."""
        value, interval = self.metrics.get(name), self.intervals.get(name)
        if value is None:
            return "n/a"
        return f"{value:.2f}" + (f" ({interval[0]:.2f}–{interval[1]:.2f})" if interval else "")

    def table_row(self, names: Iterable[str] = tuple(HEADLINE)) -> str:
        return " | ".join([self.name] + [self.cell(n) for n in names])


#: The halves of the gold set: tune on ``dev`` only; ``test`` was frozen before any tuning.
SPLITS = ("dev", "test", "all")


def load_questions(path: str | Path = QUESTIONS, split: str = "all") -> list[dict[str, Any]]:
    """The gold questions of ``split`` (``dev``, ``test`` or ``all``); a file without a ``split``
    field counts as all ``test``."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    with open(path, encoding="utf-8") as handle:
        questions = [json.loads(line) for line in handle if line.strip()]
    return [q for q in questions if split == "all" or q.get("split", "test") == split]


def run(assistant: Any, questions: Sequence[dict[str, Any]] | None = None, *, name: str | None = None,
        progress: bool = True, on_result: Callable[[QuestionResult], None] | None = None,
        suite: str = "seeds") -> "Report":
    """Ask every question and score the answers. ``assistant`` is a :class:`rag.Assistant` (or
    anything with ``ask(question, history=...)`` returning a :class:`rag.Answer` and a
    ``retrieve(question, top_k)`` method or ``retriever``)."""
    questions = list(questions if questions is not None else load_questions())
    results = []
    for question in _progress(questions, progress, suite):
        result = score_question(assistant, question)
        results.append(result)
        if on_result:
            on_result(result)
    return aggregate(name or getattr(getattr(assistant, "answerer", None), "name", "assistant"), results, suite)


def score_question(assistant: Any, gold: dict[str, Any]) -> QuestionResult:
    from rag.conversation import standalone

    history = gold.get("history") or None
    answer = assistant.ask(gold["question"], history=history)
    scores: dict[str, float] = {}
    failures: list[str] = []
    quotes = [e["quote"] for e in gold.get("evidence", [])]
    if gold["answerable"]:
        ranked = _retrieve(assistant, standalone(gold["question"], history), 10)
        scores.update(retrieval_scores([p.text for p in ranked], quotes))
        scores["false_abstention"] = float(answer.abstained)
        if answer.abstained:
            failures.append("abstained on an answerable question")
        facts = key_fact_scores(answer.text, gold["key_facts"])
        scores.update(facts)
        if facts and facts["all_facts"] < 1:
            failures.append(f"missing key facts ({facts['key_fact_recall']:.2f} found)")
        if "answers" in gold:  # SQuAD-style gold spans
            scores["gold_span"] = scores["overall"] = float(
                not answer.abstained and has_gold_span(answer.text, gold["answers"]))
            if not answer.abstained and not scores["gold_span"]:
                failures.append("no gold answer span in the answer")
        if not answer.abstained:
            judged = judge_citations([(c.source, c.quote) for c in answer.citations], gold.get("evidence", []))
            scores.update(judged)
            if judged and not judged["evidence_cited"]:
                failures.append("no citation overlaps the gold evidence")
    else:
        scores["correct_abstention"] = float(answer.abstained)
        if "answers" in gold:
            scores["overall"] = scores["correct_abstention"]
        if not answer.abstained:
            failures.append("answered an unanswerable question")
    forbidden = forbidden_found(answer.text, gold.get("forbidden", []))
    scores["forbidden_rate"] = float(bool(forbidden))
    if forbidden:
        failures.append(f"forbidden values present: {forbidden}")
    drafted = getattr(answer, "drafted", None)
    if not answer.abstained and drafted is not None:
        kept, written = drafted
        scores["model_answers"] = float(kept > 0)
        if written:
            scores["model_sentences_kept"] = kept / written
    if not answer.abstained:
        sentences = answer_sentences(answer.text)
        cited = {c.n: (c.passage.text if c.passage is not None else c.quote) for c in answer.citations}
        scores.update(citation_scores(sentences, cited))
        scores.update(faithfulness_scores(sentences, [p.text for p in answer.passages]))
        if scores.get("citation_recall", 1) < 1:
            failures.append(f"citation recall {scores['citation_recall']:.2f}")
        if scores.get("faithfulness", 1) < 1:
            failures.append(f"faithfulness {scores['faithfulness']:.2f}")
    return QuestionResult(
        id=gold["id"], type=gold["type"], answerable=gold["answerable"], question=gold["question"],
        gold_answer=gold.get("gold_answer", ""), answer=answer.to_dict(), scores=scores,
        retrieve_ms=answer.timings.get("retrieve_ms", 0.0), answer_ms=answer.timings.get("answer_ms", 0.0),
        failures=failures, confidence=getattr(answer, "confidence", None),
    )


THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))


def abstention_curve(results: Sequence[QuestionResult]) -> list[tuple[float, float | None, float | None]]:
    """(threshold, correct abstention, false abstention) had ``abstain_threshold`` been each of
    :data:`THRESHOLDS`: a question abstains when its confidence is below it (one with no
    confidence, e.g. nothing retrieved, always abstains). Empty when the answers carry none."""
    if not any(r.confidence is not None for r in results):
        return []
    curve = []
    for threshold in THRESHOLDS:
        abstains = [(r.answerable, r.confidence is None or r.confidence < threshold) for r in results]
        curve.append((threshold, mean([float(a) for answerable, a in abstains if not answerable]),
                      mean([float(a) for answerable, a in abstains if answerable])))
    return curve


def _retrieve(assistant: Any, question: str, k: int):
    if hasattr(assistant, "retrieve"):
        return assistant.retrieve(question, k)
    return assistant.retriever.retrieve(question, top_k=k)


def aggregate(name: str, results: list[QuestionResult], suite: str = "seeds") -> Report:
    metrics: dict[str, float | None] = {}
    intervals: dict[str, tuple[float, float] | None] = {}
    for metric in METRICS:
        values = [r.scores[metric] for r in results if metric in r.scores]
        metrics[metric] = mean(values)
        intervals[metric] = bootstrap_ci(values)
    retrieve = [r.retrieve_ms for r in results]
    answer = [r.answer_ms for r in results]
    latency = {"retrieve_median_ms": percentile(retrieve, 0.5), "retrieve_p95_ms": percentile(retrieve, 0.95),
               "answer_median_ms": percentile(answer, 0.5), "answer_p95_ms": percentile(answer, 0.95)}
    by_type: dict[str, dict[str, float | None]] = {}
    for kind in sorted({r.type for r in results}):
        group = [r for r in results if r.type == kind]
        by_type[kind] = {
            "questions": float(len(group)),
            "passed": mean([float(not r.failures) for r in group]),
            "key_fact_recall": mean([r.scores["key_fact_recall"] for r in group if "key_fact_recall" in r.scores]),
        }
    return Report(name, results, metrics, intervals, latency, by_type, suite)


def _progress(items: Iterable, enabled: bool, suite: str = "eval"):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=f"eval {suite}", unit="question", file=sys.stderr, leave=False)
