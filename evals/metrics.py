"""Deterministic, offline metrics: retrieval (BEIR-style), correctness (key facts), citations
(ALCE recall and precision), faithfulness, abstention. Support is judged by the evaluation's own
check (:mod:`evals.support`), never by the assistant's verifier.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from typing import Callable, Sequence

from evals.support import support_details, supports

_MARKERS = re.compile(r"\s*(?:\[\d+\])+")
_MARKER_RUN = re.compile(r"((?:\s*\[\d+\])+)")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z“\"])")


def normalise(text: str) -> str:
    """Folded for string matching: lower-case, plain quotes and dashes, no accents, no thousands
    separators, single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = text.replace("—", " - ").replace("–", "-")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return " ".join(text.lower().split())


def contains_quote(passage: str, quote: str) -> bool:
    return normalise(quote) in normalise(passage)


# ---- retrieval -------------------------------------------------------------------------------


def retrieval_scores(passages: Sequence[str], quotes: Sequence[str]) -> dict[str, float]:
    """recall@1, recall@5 (share of evidence quotes found in the top k passages), MRR@10 (first
    passage holding a quote) and nDCG@10 (a passage is relevant if it holds a quote no earlier
    passage held)."""
    quotes = list(dict.fromkeys(quotes))
    if not quotes:
        return {}
    holds = [{q for q in quotes if contains_quote(p, q)} for p in passages[:10]]

    def recall(k: int) -> float:
        found = set().union(*holds[:k]) if holds[:k] else set()
        return len(found) / len(quotes)

    first = next((rank for rank, held in enumerate(holds, 1) if held), None)
    seen: set[str] = set()
    dcg = 0.0
    for rank, held in enumerate(holds, 1):
        if held - seen:
            dcg += 1 / math.log2(rank + 1)
            seen |= held
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(quotes), 10) + 1))
    return {"recall@1": recall(1), "recall@5": recall(5), "mrr@10": 1 / first if first else 0.0,
            "ndcg@10": dcg / ideal}


# ---- answers ---------------------------------------------------------------------------------


def key_fact_scores(answer: str, key_facts: Sequence[Sequence[str]]) -> dict[str, float]:
    if not key_facts:
        return {}
    text = normalise(answer)
    found = [any(_has(text, alias) for alias in group) for group in key_facts]
    return {"key_fact_recall": sum(found) / len(found), "all_facts": float(all(found))}


def forbidden_found(answer: str, forbidden: Sequence[str]) -> list[str]:
    text = normalise(answer)
    return [value for value in forbidden if _has(text, value)]


def _has(text: str, alias: str) -> bool:
    alias = normalise(alias)
    return re.search(rf"(?<!\w){re.escape(alias)}(?!\w)", text) is not None


def answer_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """(sentence without markers, cited numbers) for each sentence of an answer."""
    body = re.sub(r"\s*\((?:\[\d+\] was published [^)]*)\)\s*$", "", answer)  # the publication note
    result: list[tuple[str, list[int]]] = []
    pieces = _MARKER_RUN.split(body)  # text, markers, text, markers, ..., text
    for position in range(0, len(pieces), 2):
        cited = [int(n) for n in re.findall(r"\[(\d+)\]", pieces[position + 1])] if position + 1 < len(pieces) else []
        sentences = [s.strip() for s in _SENTENCE_BREAK.split(pieces[position]) if re.search(r"\w", s)]
        for index, sentence in enumerate(sentences):  # markers belong to the sentence just before them
            result.append((sentence, cited if index == len(sentences) - 1 else []))
    return result


def citation_scores(sentences: list[tuple[str, list[int]]], cited_text: dict[int, str],
                    judge: Callable[[str, str], bool] = supports) -> dict[str, float]:
    """ALCE citation recall and precision, and the share of sentences that cite anything.

    Recall: a sentence scores 1 when it cites something and the concatenation of its cited
    passages supports it. Precision: a citation is irrelevant when its passage alone does not
    support the sentence and the other citations do without it.
    """
    claims = [(s, [n for n in cited if n in cited_text]) for s, cited in sentences]
    claims = [(s, c) for s, c in claims if not _is_framing(s)]
    if not claims:
        return {}
    recalls, relevant, total = [], 0, 0
    for sentence, cited in claims:
        supported = bool(cited) and judge(sentence, " ".join(cited_text[n] for n in cited))
        recalls.append(float(supported))
        for n in cited:
            total += 1
            alone = judge(sentence, cited_text[n])
            others = [m for m in cited if m != n]
            without = bool(others) and judge(sentence, " ".join(cited_text[m] for m in others))
            relevant += int(alone or not (supported and without))
    return {
        "citation_recall": sum(recalls) / len(recalls),
        "citation_precision": relevant / total if total else 0.0,
        "cited_sentences": sum(bool(c) for _, c in claims) / len(claims),
    }


def _is_framing(sentence: str) -> bool:
    """Framing the assistant adds from metadata, not claims (e.g. 'The articles differ on this.')."""
    return sentence.strip() in {"The articles differ on this."}


def faithfulness_scores(sentences: list[tuple[str, list[int]]], retrieved: Sequence[str]) -> dict[str, float]:
    """Share of answer sentences that some retrieved passage supports, and the numbers and names
    the answer states that no retrieved passage contains."""
    claims = [s for s, _ in sentences if not _is_framing(s)]
    if not claims:
        return {}
    supported = [any(supports(claim, passage) for passage in retrieved) for claim in claims]
    corpus = " ".join(retrieved)
    unsupported = set()
    for claim in claims:
        details = support_details(claim, corpus)
        unsupported |= set(details.missing_numbers) | set(details.missing_names)
    return {"faithfulness": sum(supported) / len(supported), "unsupported_values": float(len(unsupported))}


# ---- aggregation -----------------------------------------------------------------------------


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def bootstrap_ci(values: Sequence[float], samples: int = 2000, seed: int = 0) -> tuple[float, float] | None:
    """95% percentile-bootstrap interval of the mean."""
    if len(values) < 2:
        return None
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(samples))
    return means[int(0.025 * samples)], means[int(0.975 * samples) - 1]


def paired_difference(a: dict[str, float], b: dict[str, float], samples: int = 4000,
                      seed: int = 0) -> tuple[float, float, float] | None:
    """Mean of ``a[q] - b[q]`` over the questions both scored, with its 95% paired-bootstrap
    interval: two systems on the same questions compared question by question."""
    shared = [q for q in a if q in b]
    if len(shared) < 2:
        return None
    diffs = [a[q] - b[q] for q in shared]
    rng, n = random.Random(seed), len(diffs)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(samples))
    return sum(diffs) / n, means[int(0.025 * samples)], means[int(0.975 * samples) - 1]
